"""Attribution: appointments, arrivals and deals credited to the last campaign message.

Last touch, set-based: an outcome (appointment booked, visit, deal closed)
of a person at time *t* is credited to campaign *C* when C's message to that
person was sent within ``window_days`` before *t* and no other campaign
message reached them between it and *t*. One query per outcome kind, a
join and an anti-join on ``ix_message_frequency`` — no per-person loop —
and only pseudonymous workflow facts are read: nothing is decrypted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.sql import ColumnElement, FromClause

from pulsecrm.crm.clinic_tables import appointment, deal, visit
from pulsecrm.marketing.send_tables import message, message_event
from pulsecrm.marketing.sending_store import SENT, status_counts

DAY_US = 86_400_000_000
DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Attribution:
    campaign_id: str
    window_days: int
    messages: dict[str, int]
    skipped: dict[str, int]
    delivered: int
    appointments: int
    arrivals: int
    deals: int
    revenue_cents: int
    people_converted: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _credited(
    tenant_id: int,
    campaign_id: str,
    outcome: FromClause,
    person: ColumnElement[Any],
    at: ColumnElement[Any],
    window_us: int,
    *extra: Any,
) -> Any:
    """``SELECT count, people, extra…`` of outcomes whose last campaign touch is this campaign."""
    mine = message.alias("mine")
    later = message.alias("later")
    newer_touch = (
        select(later.c.id)
        .where(
            later.c.tenant_id == tenant_id,
            later.c.person_id == person,
            later.c.campaign_id.is_not(None),
            later.c.status == SENT,
            later.c.sent_us > mine.c.sent_us,
            later.c.sent_us <= at,
        )
        .exists()
    )
    return (
        select(func.count(), func.count(func.distinct(person)), *extra)
        .select_from(
            outcome.join(
                mine,
                and_(
                    mine.c.tenant_id == tenant_id,
                    mine.c.person_id == person,
                    mine.c.campaign_id == campaign_id,
                    mine.c.status == SENT,
                    mine.c.sent_us <= at,
                    mine.c.sent_us >= at - window_us,
                ),
            )
        )
        .where(~newer_touch)
    )


def attribute(
    conn: Connection, *, tenant_id: int, campaign_id: str, window_days: int = DEFAULT_WINDOW_DAYS
) -> Attribution:
    window = window_days * DAY_US
    booked = conn.execute(
        _credited(
            tenant_id,
            campaign_id,
            appointment,
            appointment.c.person_id,
            appointment.c.created_us,
            window,
        ).where(appointment.c.tenant_id == tenant_id)
    ).one()
    arrived = conn.execute(
        _credited(
            tenant_id, campaign_id, visit, visit.c.person_id, visit.c.arrived_us, window
        ).where(visit.c.tenant_id == tenant_id)
    ).one()
    closed = conn.execute(
        _credited(
            tenant_id,
            campaign_id,
            deal,
            deal.c.person_id,
            deal.c.closed_us,
            window,
            func.coalesce(func.sum(deal.c.amount_cents), 0),
        ).where(deal.c.tenant_id == tenant_id)
    ).one()
    counts = status_counts(conn, tenant_id=tenant_id, campaign_id=campaign_id)
    skipped = {
        str(reason): int(n)
        for reason, n in conn.execute(
            select(message.c.skip_reason, func.count())
            .where(
                message.c.tenant_id == tenant_id,
                message.c.campaign_id == campaign_id,
                message.c.status == "skipped",
            )
            .group_by(message.c.skip_reason)
        )
    }
    delivered = conn.execute(
        select(func.count(func.distinct(message_event.c.message_id)))
        .select_from(message_event.join(message, message.c.id == message_event.c.message_id))
        .where(
            message_event.c.tenant_id == tenant_id,
            message_event.c.kind == "delivered",
            message.c.campaign_id == campaign_id,
        )
    ).scalar_one()
    return Attribution(
        campaign_id=campaign_id,
        window_days=window_days,
        messages=counts,
        skipped=skipped,
        delivered=int(delivered),
        appointments=int(booked[0]),
        arrivals=int(arrived[0]),
        deals=int(closed[0]),
        revenue_cents=int(closed[2]),
        people_converted=int(closed[1]),
    )
