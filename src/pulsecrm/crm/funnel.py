"""Funnel and KPIs over the pseudonymous workflow tables — set-based, no decryption.

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

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Subquery,
    Table,
    and_,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from pulsecrm.crm.clinic_tables import appointment, consultation, deal, followup_task, lead, visit
from pulsecrm.crm.ids import DAY_US, now_us
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.store.engine import read_connection

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


def _cohort(query: Select[Any], tenant_id: int, from_us: int | None, to_us: int | None) -> Any:
    query = query.where(lead.c.tenant_id == tenant_id)
    if from_us is not None:
        query = query.where(lead.c.created_us >= from_us)
    if to_us is not None:
        query = query.where(lead.c.created_us < to_us)
    return query


def _step(table: Table, tenant_id: int, aggregates: Sequence[ColumnElement[Any]]) -> Subquery:
    """One row per lead with this step's aggregates (streams over ``(tenant_id, lead_id, …)``)."""
    return (
        select(table.c.lead_id, *(a.label(f"m{i}") for i, a in enumerate(aggregates)))
        .where(table.c.tenant_id == tenant_id, table.c.lead_id.is_not(None))
        .group_by(table.c.lead_id)
        .subquery()
    )


def _run_all(conn: Connection, engine: Engine | None, statements: list[Any]) -> list[list[Any]]:
    if engine is None or len(statements) < 2:
        return [list(conn.execute(statement)) for statement in statements]

    def fetch(statement: Any) -> list[Any]:
        with read_connection(engine) as own:
            return list(own.execute(statement))

    with ThreadPoolExecutor(max_workers=len(statements)) as pool:
        return list(pool.map(fetch, statements))


def funnel(
    *,
    conn: Connection,
    tenant_id: int,
    by: str = "channel",
    from_us: int | None = None,
    to_us: int | None = None,
    now: int | None = None,
    engine: Engine | None = None,
) -> list[FunnelRow]:
    """Set-based: one ``GROUP BY <dimension>`` over the cohort, then one per step.

    Each step aggregates its table per lead (an index range scan in ``lead_id``
    order), joins only those leads to ``lead`` for the cohort filter and the
    dimension, and groups by the dimension. No query joins two activity tables,
    so the work is proportional to the rows of each table, not their product
    with the cohort. Indexes: migration ``0004``.

    Given an ``engine``, the six queries run at once on their own read
    connections (the database drivers release the GIL while a query runs, so
    they use every core); each then reads its own snapshot, which a report
    tolerates. Without one they run in order on ``conn``.
    """
    if by not in DIMENSIONS:
        raise InvalidValue("by", f"one of {', '.join(DIMENSIONS)}", f"应为 {'、'.join(DIMENSIONS)}")
    now = now or now_us()
    one = literal(1)
    zero = literal(0)
    key = _key(conn, by).label("key")

    def flag(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, one), else_=zero))

    totals: dict[Any, list[float]] = {}
    width = 13  # leads … followups_on_time, in FunnelRow order

    statements: list[tuple[int, Any]] = []

    def add(offset: int, query: Any) -> None:
        statements.append((offset, _cohort(query.group_by(key), tenant_id, from_us, to_us)))

    response = lead.c.first_response_us - lead.c.created_us
    cohort_rows: dict[Any, tuple[int, float | None]] = {}
    cohort = _cohort(
        select(key, func.count(), func.count(lead.c.first_response_us), func.sum(response)),
        tenant_id,
        from_us,
        to_us,
    ).group_by(key)

    status = appointment.c.status
    done = followup_task.c.status == "done"
    # (first slot in the row, table, count the leads reached?, per-lead aggregates)
    steps: list[tuple[int, Table, bool, list[ColumnElement[Any]]]] = [
        (1, consultation, True, []),
        (
            2,
            appointment,
            True,
            [func.count(), flag(status == "no_show"), flag(status.in_(("arrived", "no_show")))],
        ),
        (6, visit, True, []),
        (7, deal, True, [func.count(), func.sum(deal.c.amount_cents)]),
        (
            10,
            followup_task,
            False,
            [
                flag(followup_task.c.due_us <= now),
                flag(done),
                flag(and_(done, followup_task.c.completed_us < followup_task.c.due_us + DAY_US)),
            ],
        ),
    ]
    for offset, table, reached, aggregates in steps:
        sub = _step(table, tenant_id, aggregates)
        columns = ([func.count()] if reached else []) + [
            func.sum(sub.c[f"m{i}"]) for i in range(len(aggregates))
        ]
        add(offset, select(key, *columns).select_from(sub.join(lead, lead.c.id == sub.c.lead_id)))
    results = _run_all(conn, engine, [cohort] + [statement for _, statement in statements])
    for r in results[0]:
        totals.setdefault(r[0], [0] * width)[0] = int(r[1])
        cohort_rows[r[0]] = (int(r[2]), None if r[3] is None else float(r[3]))
    for (offset, _statement), step_rows in zip(statements, results[1:], strict=True):
        for r in step_rows:
            row = totals.setdefault(r[0], [0] * width)
            for i, value in enumerate(r[1:]):
                row[offset + i] += value or 0
    rows = []
    for k in sorted(totals, key=lambda v: (v is None, v)):
        n = [int(x) for x in totals[k]]
        responded, total_response = cohort_rows.get(k, (0, None))
        mean = (
            round(total_response / responded / 1e6, 1)
            if responded and total_response is not None
            else None
        )
        rows.append(
            FunnelRow(
                None if k is None else str(k),
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
                mean,
            )
        )
    return rows
