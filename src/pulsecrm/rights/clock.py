"""The legal clock of a data-subject request (F1).

PIPL 50 and GB/T 35273 §8.7 allow at most 30 days; GDPR Art 12(3) allows one
calendar month. A clinic serving both answers by the earlier of the two:
``due = min(received + 30 days, received + 1 calendar month)``. The calendar
month is counted on the clinic's local calendar (Asia/Shanghai), keeping the
time of day, and a day that does not exist in the next month is clamped to
its last day — 31 January gives 28 February, or 29 in a leap year (the GDPR
reading of "one month" per Regulation 1182/71). In months of 31 days the
30-day limit is the earlier; after a 31 January receipt, the month is.

An extension is recorded with its reason and only inside the original window
(at most day 30 and before the original due time); it adds at most 60 days
(GDPR Art 12(3): two further months at most), and only once.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

CLOCK_TZ = ZoneInfo("Asia/Shanghai")
LIMIT_DAYS = 30
MAX_EXTENSION_DAYS = 60
DAY_US = 86_400_000_000


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _to_dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)  # exact: no float on the way


def _to_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def add_calendar_month(moment: datetime) -> datetime:
    """The same local time one calendar month later, clamped to the month's last day."""
    local = moment.astimezone(CLOCK_TZ)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(UTC)


def due_us(received_us: int) -> int:
    """``min(received + 30 days, received + 1 calendar month)``."""
    received = _to_dt(received_us)
    return min(_to_us(received + timedelta(days=LIMIT_DAYS)), _to_us(add_calendar_month(received)))


def within_original_window(received_us: int, original_due_us: int, at_us: int) -> bool:
    """Still inside the original window: not past the original due time (never past day 30)."""
    return received_us <= at_us <= min(original_due_us, received_us + LIMIT_DAYS * DAY_US)


def days_left(due: int, at_us: int) -> int:
    """Whole days until ``due`` (negative when overdue), for queue display."""
    delta = due - at_us
    return delta // DAY_US if delta >= 0 else -((-delta + DAY_US - 1) // DAY_US)
