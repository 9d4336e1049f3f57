"""Funnel and KPIs over the pseudonymous workflow tables — one set-based query, no decryption.

The cohort is the leads created in ``[from, to)``; each later step is credited
to the lead it came from (``lead_id``), whenever it happened. Definitions:

* booking rate      = leads with an appointment / leads
* arrival rate      = leads with a visit / leads with an appointment
* no-show rate      = no-show appointments / appointments that reached their slot
                      (arrived + no-show)
* close rate        = leads with a deal / leads with a visit
* average deal      = revenue / deals
* follow-up completion = follow-ups done / follow-ups due by ``now``
* follow-up timeliness = follow-ups done within a day of their due date / done
* first response    = mean seconds from lead creation to first contact
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from pulsecrm.crm.clinic_tables import appointment, consultation, deal, followup_task, lead, visit
from pulsecrm.crm.ids import DAY_US, now_us
from pulsecrm.kernel.errors import InvalidValue

DIMENSIONS = ("channel", "campaign", "consultant", "branch", "month", "total")


@dataclass(frozen=True)
class FunnelRow:
    key: str | None
    leads: int
    consulted: int
    booked: int
    appointments: int
    no_shows: int
    settled: int
    arrived: int
    closed: int
    deals: int
    revenue_cents: int
    followups_due: int
    followups_done: int
    followups_on_time: int
    first_response_s: float | None

    @staticmethod
    def _ratio(a: float, b: float) -> float | None:
        return round(a / b, 4) if b else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "leads": self.leads,
            "consulted": self.consulted,
            "booked": self.booked,
            "arrived": self.arrived,
            "closed": self.closed,
            "deals": self.deals,
            "revenue_cents": self.revenue_cents,
            "booking_rate": self._ratio(self.booked, self.leads),
            "arrival_rate": self._ratio(self.arrived, self.booked),
            "no_show_rate": self._ratio(self.no_shows, self.settled),
            "close_rate": self._ratio(self.closed, self.arrived),
            "average_deal_cents": self._ratio(self.revenue_cents, self.deals),
            "followup_completion": self._ratio(self.followups_done, self.followups_due),
            "followup_timeliness": self._ratio(self.followups_on_time, self.followups_done),
            "first_response_s": self.first_response_s,
        }


def _month(conn: Connection) -> ColumnElement[Any]:
    seconds = lead.c.created_us / 1_000_000
    if conn.dialect.name == "sqlite":
        return func.strftime("%Y-%m", seconds, "unixepoch")
    return func.to_char(func.to_timestamp(seconds), "YYYY-MM")


def _key(conn: Connection, by: str) -> ColumnElement[Any]:
    if by == "month":
        return _month(conn)
    columns: dict[str, ColumnElement[Any]] = {
        "channel": lead.c.channel,
        "campaign": lead.c.campaign,
        "consultant": lead.c.owner_id,
        "branch": lead.c.branch_id,
    }
    return columns.get(by, literal("all"))


def funnel(
    *,
    conn: Connection,
    tenant_id: int,
    by: str = "channel",
    from_us: int | None = None,
    to_us: int | None = None,
    now: int | None = None,
) -> list[FunnelRow]:
    if by not in DIMENSIONS:
        raise InvalidValue("by", f"one of {', '.join(DIMENSIONS)}", f"应为 {'、'.join(DIMENSIONS)}")
    now = now or now_us()
    one = literal(1)
    zero = literal(0)
    c = (
        select(consultation.c.lead_id)
        .where(consultation.c.tenant_id == tenant_id, consultation.c.lead_id.is_not(None))
        .group_by(consultation.c.lead_id)
        .subquery("c")
    )
    a = (
        select(
            appointment.c.lead_id,
            func.count().label("n"),
            func.sum(case((appointment.c.status == "no_show", one), else_=zero)).label("ns"),
            func.sum(
                case((appointment.c.status.in_(("arrived", "no_show")), one), else_=zero)
            ).label("settled"),
        )
        .where(appointment.c.tenant_id == tenant_id, appointment.c.lead_id.is_not(None))
        .group_by(appointment.c.lead_id)
        .subquery("a")
    )
    v = (
        select(visit.c.lead_id)
        .where(visit.c.tenant_id == tenant_id, visit.c.lead_id.is_not(None))
        .group_by(visit.c.lead_id)
        .subquery("v")
    )
    d = (
        select(deal.c.lead_id, func.count().label("n"), func.sum(deal.c.amount_cents).label("amt"))
        .where(deal.c.tenant_id == tenant_id, deal.c.lead_id.is_not(None))
        .group_by(deal.c.lead_id)
        .subquery("d")
    )
    done = followup_task.c.status == "done"
    f = (
        select(
            followup_task.c.lead_id,
            func.sum(case((followup_task.c.due_us <= now, one), else_=zero)).label("due"),
            func.sum(case((done, one), else_=zero)).label("done"),
            func.sum(
                case(
                    (
                        and_(done, followup_task.c.completed_us < followup_task.c.due_us + DAY_US),
                        one,
                    ),
                    else_=zero,
                )
            ).label("on_time"),
        )
        .where(followup_task.c.tenant_id == tenant_id, followup_task.c.lead_id.is_not(None))
        .group_by(followup_task.c.lead_id)
        .subquery("f")
    )
    key = _key(conn, by).label("key")
    response = lead.c.first_response_us - lead.c.created_us
    query = (
        select(
            key,
            func.count().label("leads"),
            func.count(c.c.lead_id),
            func.count(a.c.lead_id),
            func.coalesce(func.sum(a.c.n), 0),
            func.coalesce(func.sum(a.c.ns), 0),
            func.coalesce(func.sum(a.c.settled), 0),
            func.count(v.c.lead_id),
            func.count(d.c.lead_id),
            func.coalesce(func.sum(d.c.n), 0),
            func.coalesce(func.sum(d.c.amt), 0),
            func.coalesce(func.sum(f.c.due), 0),
            func.coalesce(func.sum(f.c.done), 0),
            func.coalesce(func.sum(f.c.on_time), 0),
            func.avg(response),
        )
        .select_from(
            lead.outerjoin(c, c.c.lead_id == lead.c.id)
            .outerjoin(a, a.c.lead_id == lead.c.id)
            .outerjoin(v, v.c.lead_id == lead.c.id)
            .outerjoin(d, d.c.lead_id == lead.c.id)
            .outerjoin(f, f.c.lead_id == lead.c.id)
        )
        .where(lead.c.tenant_id == tenant_id)
        .group_by(key)
        .order_by(key)
    )
    if from_us is not None:
        query = query.where(lead.c.created_us >= from_us)
    if to_us is not None:
        query = query.where(lead.c.created_us < to_us)
    rows = []
    for r in conn.execute(query):
        n = [int(x) for x in r[1:14]]
        rows.append(
            FunnelRow(
                None if r[0] is None else str(r[0]),
                n[0],
                n[1],
                n[2],
                n[3],
                n[4],
                n[5],
                n[6],
                n[7],
                n[8],
                n[9],
                n[10],
                n[11],
                n[12],
                None if r[14] is None else round(float(r[14]) / 1e6, 1),
            )
        )
    return rows
