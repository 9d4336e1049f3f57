"""The ``message`` ledger's state machine, in set-based SQL that runs on SQLite and PostgreSQL.

``queued`` → ``sending`` (claimed by one worker) → ``sent`` | ``failed`` |
``skipped``; a retryable provider error puts a row back to ``queued``.

* Enqueueing is one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` over the
  audience: the unique key (tenant, campaign, person, channel) makes a second
  enqueue — a re-run ``campaign send``, a retried job — a no-op.
* Claiming is one ``UPDATE … WHERE status = 'queued' RETURNING``: the row
  lock (PostgreSQL) or the single writer (SQLite) lets exactly one worker move
  a row to ``sending``, so two workers never send the same message.
* A ``sending`` row whose lease ran out belongs to a worker that died
  somewhere between claim and record. Whether the provider got it is unknown,
  so ``recover_stale`` re-queues it only for a provider that drops a repeated
  idempotency key within its window; for every other provider the row
  becomes ``failed`` with ``outcome_unknown`` — at most once, never twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from pulsecrm.marketing.send_tables import message, message_event
from pulsecrm.marketing.tables import campaign_audience

QUEUED, SENDING, SENT, FAILED, SKIPPED = "queued", "sending", "sent", "failed", "skipped"
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Claimed:
    id: str
    campaign_id: str | None
    person_id: str
    channel: str
    purpose: str
    attempts: int


def new_id() -> str:
    return uuid.uuid4().hex


def _insert(conn: Connection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


def _random_id(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return text("replace(gen_random_uuid()::text, '-', '')")
    return text("lower(hex(randomblob(16)))")


def enqueue_audience(
    conn: Connection,
    *,
    tenant_id: int,
    campaign_id: str,
    purpose: str,
    channel: str,
    now_us: int,
) -> int:
    """Queue one message per audience row; returns how many were new."""
    columns = [
        "id",
        "tenant_id",
        "campaign_id",
        "person_id",
        "channel",
        "purpose",
        "status",
        "attempts",
        "queued_us",
    ]
    source = select(
        _random_id(conn),
        campaign_audience.c.tenant_id,
        campaign_audience.c.campaign_id,
        campaign_audience.c.person_id,
        literal(channel),
        literal(purpose),
        literal(QUEUED),
        literal(0),
        literal(now_us),
    ).where(
        campaign_audience.c.tenant_id == tenant_id,
        campaign_audience.c.campaign_id == campaign_id,
    )
    statement = _insert(conn)(message).from_select(columns, source).on_conflict_do_nothing()
    return int(conn.execute(statement).rowcount or 0)


def queued_ids(conn: Connection, *, tenant_id: int, campaign_id: str) -> list[str]:
    return list(
        conn.execute(
            select(message.c.id)
            .where(
                message.c.tenant_id == tenant_id,
                message.c.campaign_id == campaign_id,
                message.c.status == QUEUED,
            )
            .order_by(message.c.id)
        ).scalars()
    )


def insert_service_message(
    conn: Connection, *, tenant_id: int, person_id: str, channel: str, purpose: str, now_us: int
) -> str:
    message_id = new_id()
    conn.execute(
        message.insert().values(
            id=message_id,
            tenant_id=tenant_id,
            campaign_id=None,
            person_id=person_id,
            channel=channel,
            purpose=purpose,
            status=QUEUED,
            attempts=0,
            queued_us=now_us,
        )
    )
    return message_id


def claim(
    conn: Connection, *, tenant_id: int, message_ids: Sequence[str], now_us: int
) -> list[Claimed]:
    """Move queued rows to ``sending`` for this worker; rows others hold are not returned."""
    claimed: list[Claimed] = []
    for start in range(0, len(message_ids), 500):
        statement = (
            update(message)
            .where(
                message.c.tenant_id == tenant_id,
                message.c.id.in_(list(message_ids[start : start + 500])),
                message.c.status == QUEUED,
            )
            .values(status=SENDING, claimed_us=now_us, attempts=message.c.attempts + 1)
            .returning(
                message.c.id,
                message.c.campaign_id,
                message.c.person_id,
                message.c.channel,
                message.c.purpose,
                message.c.attempts,
            )
        )
        claimed += [Claimed(*row) for row in conn.execute(statement)]
    return claimed


def finish(conn: Connection, tenant_id: int, outcomes: Iterable[dict[str, Any]]) -> None:
    """Record each claimed row's end state (``sent``/``failed``/``skipped``/back to ``queued``).

    Only rows still in ``sending`` are touched: a receipt or recovery that got
    there first is not overwritten.
    """
    rows = [
        {
            "b_id": o["id"],
            "b_status": o["status"],
            "b_skip": o.get("skip_reason"),
            "b_provider": o.get("provider"),
            "b_pmid": o.get("provider_message_id"),
            "b_sent": o.get("sent_us"),
            "b_error": (o.get("error") or None) and str(o["error"])[:200],
        }
        for o in outcomes
    ]
    if not rows:
        return
    statement = (
        update(message)
        .where(
            message.c.tenant_id == tenant_id,
            message.c.id == bindparam("b_id"),
            message.c.status == SENDING,
        )
        .values(
            status=bindparam("b_status"),
            skip_reason=bindparam("b_skip"),
            provider=bindparam("b_provider"),
            provider_message_id=bindparam("b_pmid"),
            sent_us=bindparam("b_sent"),
            error=bindparam("b_error"),
        )
    )
    conn.execute(statement, rows)


def add_events(
    conn: Connection, tenant_id: int, events: Iterable[tuple[str, str, int, str]]
) -> None:
    """Append ``(message_id, kind, at_us, detail)`` rows to the append-only event ledger."""
    rows = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "message_id": message_id,
            "kind": kind,
            "at_us": at_us,
            "detail": detail or None,
        }
        for message_id, kind, at_us, detail in events
    ]
    if rows:
        conn.execute(message_event.insert(), rows)


def recover_stale(
    conn: Connection,
    *,
    tenant_id: int,
    now_us: int,
    lease_s: int,
    requeue_channels: Sequence[str] = (),
) -> dict[str, int]:
    """Settle ``sending`` rows whose lease expired (a worker crashed between claim and record).

    ``requeue_channels`` are the channels whose provider drops a repeated
    idempotency key (within its window, which the lease must be shorter
    than): those rows go back to ``queued`` and are sent again under the same
    message id. Every other stale row is failed as ``outcome_unknown`` and
    not retried; a later delivery receipt can still mark it sent.
    """
    stale = and_(
        message.c.tenant_id == tenant_id,
        message.c.status == SENDING,
        message.c.claimed_us < now_us - lease_s * 1_000_000,
    )
    requeued = 0
    if requeue_channels:
        requeued = conn.execute(
            update(message)
            .where(
                stale,
                message.c.channel.in_(list(requeue_channels)),
                message.c.attempts < MAX_ATTEMPTS,
            )
            .values(status=QUEUED, error="lease expired; resent under the same key")
        ).rowcount
    failed = conn.execute(
        update(message).where(stale).values(status=FAILED, error="outcome_unknown")
    ).rowcount
    return {"requeued": int(requeued or 0), "failed": int(failed or 0)}


def sent_counts(
    conn: Connection,
    *,
    tenant_id: int,
    person_ids: Sequence[str],
    channel: str,
    since_us: int,
) -> dict[str, int]:
    """Messages sent per person on ``channel`` since ``since_us`` (the frequency cap window)."""
    counts: dict[str, int] = {}
    for start in range(0, len(person_ids), 900):
        rows = conn.execute(
            select(message.c.person_id, func.count())
            .where(
                message.c.tenant_id == tenant_id,
                message.c.person_id.in_(list(person_ids[start : start + 900])),
                message.c.channel == channel,
                message.c.status == SENT,
                message.c.sent_us >= since_us,
            )
            .group_by(message.c.person_id)
        )
        counts.update({str(p): int(n) for p, n in rows})
    return counts


def has_pending(conn: Connection, *, tenant_id: int, campaign_id: str) -> bool:
    """Is any message of the campaign queued or in flight? (one index probe, not a count)"""
    found = conn.execute(
        select(message.c.id)
        .where(
            message.c.tenant_id == tenant_id,
            message.c.campaign_id == campaign_id,
            message.c.status.in_((QUEUED, SENDING)),
        )
        .limit(1)
    ).first()
    return found is not None


def status_counts(conn: Connection, *, tenant_id: int, campaign_id: str) -> dict[str, int]:
    rows = conn.execute(
        select(message.c.status, func.count())
        .where(message.c.tenant_id == tenant_id, message.c.campaign_id == campaign_id)
        .group_by(message.c.status)
    )
    return {str(s): int(n) for s, n in rows}
