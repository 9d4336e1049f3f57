"""F1: the legal clock — due = min(received + 30 days, received + 1 calendar month)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pulsecrm.rights import clock

CST = clock.CLOCK_TZ


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _due_local(local: datetime) -> datetime:
    due = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=clock.due_us(_us(local)))
    return due.astimezone(CST)


@pytest.mark.req("F1")
@pytest.mark.parametrize(
    ("received", "due"),
    [
        # 31 Jan → one calendar month is 28 Feb (29 in a leap year): earlier than 30 days.
        ((2027, 1, 31, 10, 0), (2027, 2, 28, 10, 0)),
        ((2028, 1, 31, 10, 0), (2028, 2, 29, 10, 0)),
        ((2028, 1, 30, 23, 59), (2028, 2, 29, 23, 59)),
        # 1 Feb (non-leap) → 1 Mar is 28 days later: the month wins.
        ((2027, 2, 1, 9, 0), (2027, 3, 1, 9, 0)),
        # In months of 31 days, 30 days is the earlier limit.
        ((2027, 3, 15, 9, 0), (2027, 4, 14, 9, 0)),
        ((2027, 1, 1, 0, 0), (2027, 1, 31, 0, 0)),
        # Across the year end.
        ((2026, 12, 31, 8, 0), (2027, 1, 30, 8, 0)),
        # 30 Apr → 30 May is exactly 30 days: both agree.
        ((2027, 4, 30, 12, 0), (2027, 5, 30, 12, 0)),
    ],
)
def test_due_is_the_earlier_of_30_days_and_one_calendar_month(
    received: tuple[int, ...], due: tuple[int, ...]
) -> None:
    assert _due_local(datetime(*received, tzinfo=CST)) == datetime(*due, tzinfo=CST)


@pytest.mark.req("F1")
def test_the_calendar_is_the_clinics_local_one() -> None:
    # 31 Jan 20:00 UTC is already 1 Feb 04:00 in Shanghai: one month → 1 Mar 04:00 local.
    received = datetime(2027, 1, 31, 20, 0, tzinfo=UTC)
    assert _due_local(received) == datetime(2027, 3, 1, 4, 0, tzinfo=CST)


@pytest.mark.req("F1")
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
@example(datetime(2038, 1, 1, 0, 0, 0, 106))  # once off by a microsecond through a float
def test_due_never_exceeds_30_days_nor_one_month(naive: datetime) -> None:
    received = naive.replace(tzinfo=UTC)
    due = clock.due_us(_us(received))
    assert due <= _us(received + timedelta(days=30))
    assert due <= _us(clock.add_calendar_month(received))
    assert due >= _us(received + timedelta(days=28))


def test_extension_window_is_the_original_due() -> None:
    received = _us(datetime(2027, 1, 31, 10, 0, tzinfo=CST))
    due = clock.due_us(received)
    assert clock.within_original_window(received, due, due)
    assert not clock.within_original_window(received, due, due + 1)
    assert clock.days_left(due, received) == 28
    assert clock.days_left(due, due + 1) == -1
