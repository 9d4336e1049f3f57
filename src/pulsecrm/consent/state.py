"""The current consent state: one row per person × purpose × channel, derived from the ledger.

``apply`` folds new ledger rows into it in the same transaction as the append,
so the state is never behind the ledger. ``contactable`` and ``permitted``
answer "who may be processed for this purpose on this channel now?" from one
range of ``ix_consent_state_contactable``: status granted, not waiting for
renewal (A2/B5), not a minor without a guardian's consent (B8), not expired.
``replay`` recomputes the state from the ledger and the notices alone, which
``consent verify`` compares with the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from pulsecrm.consent.ledger import STATUS_AFTER, Kind, LedgerRow
from pulsecrm.consent.tables import consent_state, notice_version
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.store.bulk import bulk_upsert

GRANTED = "granted"
CLOSED = ("refused", "withdrawn")


def _upsert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    keys = ("tenant_id", "person_id", "purpose", "channel")
    columns = [c.name for c in consent_state.columns]
    bulk_upsert(
        conn, consent_state, columns, keys, [tuple(r.get(c) for c in columns) for r in rows]
    )


def state_values(tenant_id: int, row: LedgerRow) -> dict[str, Any]:
    status = STATUS_AFTER[row.kind]
    granted = status == GRANTED
    by_guardian = granted and row.actor_type == "guardian"
    return {
        "tenant_id": tenant_id,
        "person_id": row.person_id,
        "purpose": row.purpose,
        "channel": row.channel,
        "status": status,
        "needs_renewal": False,
        "subject_minor": row.subject_minor,
        "by_guardian": by_guardian,
        "minor_blocked": bool(
            granted and row.subject_minor and row.guardian_gate and not by_guardian
        ),
        "expires_us": row.expires_us if granted else None,
        "notice_hash": row.notice_hash,
        "last_event_id": row.id,
        "origin": row.origin,
        "updated_us": row.ts_us,
    }


def apply(conn: Connection, tenant_id: int, rows: Iterable[LedgerRow]) -> None:
    """Fold appended ledger rows into the current state (the last event per key wins)."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        latest[(row.person_id, row.purpose, row.channel)] = state_values(tenant_id, row)
    if latest:
        _upsert(conn, list(latest.values()))


def _usable(now: int) -> ColumnElement[bool]:
    return and_(
        consent_state.c.status == GRANTED,
        consent_state.c.needs_renewal.is_(False),
        consent_state.c.minor_blocked.is_(False),
        or_(consent_state.c.expires_us.is_(None), consent_state.c.expires_us > now),
    )


def permitted(
    conn: Connection,
    tenant_id: int,
    subject_ids: Sequence[str],
    purpose: str,
    channel: str,
    now: int | None = None,
) -> set[str]:
    now = now if now is not None else now_us()
    allowed: set[str] = set()
    ids = list(dict.fromkeys(subject_ids))
    for start in range(0, len(ids), 900):
        allowed.update(
            conn.execute(
                select(consent_state.c.person_id).where(
                    consent_state.c.tenant_id == tenant_id,
                    consent_state.c.purpose == purpose,
                    consent_state.c.channel == channel,
                    consent_state.c.person_id.in_(ids[start : start + 900]),
                    _usable(now),
                )
            ).scalars()
        )
    return allowed


def contactable_count(
    conn: Connection, tenant_id: int, purpose: str, channel: str, now: int | None = None
) -> int:
    """How many people may be contacted for ``purpose`` on ``channel`` now (one index range)."""
    now = now if now is not None else now_us()
    return int(
        conn.execute(
            select(func.count())
            .select_from(consent_state)
            .where(
                consent_state.c.tenant_id == tenant_id,
                consent_state.c.purpose == purpose,
                consent_state.c.channel == channel,
                _usable(now),
            )
        ).scalar_one()
    )


def contactable(
    conn: Connection, tenant_id: int, purpose: str, channel: str, now: int | None = None
) -> list[str]:
    now = now if now is not None else now_us()
    return list(
        conn.execute(
            select(consent_state.c.person_id).where(
                consent_state.c.tenant_id == tenant_id,
                consent_state.c.purpose == purpose,
                consent_state.c.channel == channel,
                _usable(now),
            )
        ).scalars()
    )


def states_of(conn: Connection, tenant_id: int, person_id: str) -> list[dict[str, Any]]:
    return [
        dict(r._mapping)
        for r in conn.execute(
            select(consent_state)
            .where(consent_state.c.tenant_id == tenant_id, consent_state.c.person_id == person_id)
            .order_by(consent_state.c.purpose, consent_state.c.channel)
        )
    ]


def replay(
    conn: Connection, tenant_id: int, events: Iterable[dict[str, Any]]
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Recompute the state (status, renewal) from ledger rows and the published notices."""
    notices = conn.execute(
        select(
            notice_version.c.id,
            notice_version.c.version_hash,
            notice_version.c.locale,
            notice_version.c.renewal_purposes,
        )
        .where(notice_version.c.tenant_id == tenant_id)
        .order_by(notice_version.c.id)
    ).all()
    order = {n.version_hash: (n.locale, n.id) for n in notices}
    state: dict[tuple[str, str, str], dict[str, Any]] = {}
    for event in events:
        key = (event["person_id"], event["purpose"], event["channel"])
        status = STATUS_AFTER[Kind(event["kind"])]
        state[key] = {"status": status, "notice_hash": event["notice_hash"], "needs_renewal": False}
    for key, item in state.items():
        if item["status"] != GRANTED or item["notice_hash"] not in order:
            continue
        locale, position = order[item["notice_hash"]]
        item["needs_renewal"] = any(
            n.locale == locale and n.id > position and key[1] in n.renewal_purposes.split(",")
            for n in notices
        )
    return state
