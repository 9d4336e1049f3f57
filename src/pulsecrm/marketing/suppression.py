"""The suppression list: people who must not be contacted on a channel, whatever their consent says.

A TD reply, an unsubscribe, a hard bounce or a complaint lands here at once
(M2's inbound and tracking code call ``suppress``), and every audience build
and every send checks it. A row for channel ``*`` blocks every channel.
Recording is idempotent — the first reason is kept, since that is the event
that caused the block and a repeat adds nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from pulsecrm.marketing.tables import suppression

ALL_CHANNELS = "*"
CHANNELS = frozenset({"sms", "email", "wechat", "outbox", ALL_CHANNELS})
REASONS = frozenset({"td_reply", "unsubscribe", "hard_bounce", "complaint", "manual"})


class SuppressionError(ValueError):
    """A suppression named an unknown channel or reason."""


def suppress(
    conn: Connection,
    *,
    tenant_id: int,
    person_id: str,
    channel: str,
    reason: str,
    source: str,
    now_us: int,
) -> None:
    if channel not in CHANNELS:
        raise SuppressionError(f"channel: unknown channel {channel!r}")
    if reason not in REASONS:
        raise SuppressionError(f"reason: unknown reason {reason!r}")
    values = {
        "tenant_id": tenant_id,
        "person_id": person_id,
        "channel": channel,
        "reason": reason,
        "source": source[:100],
        "created_us": now_us,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(suppression).values(**values).on_conflict_do_nothing()
    conn.execute(statement)


def is_suppressed(conn: Connection, *, tenant_id: int, person_id: str, channel: str) -> bool:
    row = conn.execute(
        select(suppression.c.reason)
        .where(
            suppression.c.tenant_id == tenant_id,
            suppression.c.person_id == person_id,
            suppression.c.channel.in_([channel, ALL_CHANNELS]),
        )
        .limit(1)
    ).first()
    return row is not None
