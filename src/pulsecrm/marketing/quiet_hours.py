"""Quiet hours: no marketing message is sent at night in the recipient's (tenant's) time zone.

The window is ``[quiet_start_min, quiet_end_min)`` in minutes after local
midnight; a start after the end wraps past midnight (default 21:00–08:00).
Computed with ``zoneinfo`` on local wall-clock time, so a DST change moves
the window with the clock, as people expect.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pulsecrm.marketing.errors import CampaignInvalid


class QuietWindow(Protocol):
    @property
    def timezone(self) -> str: ...
    @property
    def quiet_start_min(self) -> int: ...
    @property
    def quiet_end_min(self) -> int: ...


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CampaignInvalid(
            "timezone",
            f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)",
            f"未知时区 {name!r}（请使用 IANA 名称，如 Asia/Shanghai）",
            rule="timezone",
        ) from None


def in_quiet_hours(minute: int, start: int, end: int) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def next_allowed_us(campaign: QuietWindow, now_us: int) -> int:
    """``now_us`` outside quiet hours (campaign time zone), else the end of the quiet hours."""
    tz = zone(campaign.timezone)
    local = datetime.fromtimestamp(now_us / 1_000_000, UTC).astimezone(tz)
    minute = local.hour * 60 + local.minute
    start, end = campaign.quiet_start_min, campaign.quiet_end_min
    if not in_quiet_hours(minute, start, end):
        return now_us
    day = local.date()
    if start > end and minute >= start:
        day = day + timedelta(days=1)
    wall = datetime(day.year, day.month, day.day, end // 60, end % 60, tzinfo=tz)
    return int(wall.astimezone(UTC).timestamp() * 1_000_000)
