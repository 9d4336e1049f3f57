"""Deals (成交): items, amount, first vs repeat — and the follow-up plan they start."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pulsecrm.crm.clinic_tables import deal, lead, visit
from pulsecrm.crm.errors import not_found
from pulsecrm.crm.followup_service import plan_from_template
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.crm.lead_service import require_lead_of, require_person
from pulsecrm.crm.org_service import require_branch
from pulsecrm.crm.scope import Scope, paged
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue

MAX_AMOUNT_CENTS = 100_000_000_00  # 100 million yuan


def _amount(amount_cents: object) -> int:
    if (
        not isinstance(amount_cents, int)
        or isinstance(amount_cents, bool)
        or not 0 < amount_cents <= MAX_AMOUNT_CENTS
    ):
        raise InvalidValue(
            "amount_cents",
            f"a positive amount in cents, at most {MAX_AMOUNT_CENTS}",
            f"金额（分）必须为正数，且不超过 {MAX_AMOUNT_CENTS}",
        )
    return amount_cents


def _items(items: list[str]) -> str:
    clean = [i.strip() for i in items if isinstance(i, str) and i.strip()]
    if not clean or len(clean) != len(items) or any("," in i for i in clean):
        raise InvalidValue(
            "items",
            "one or more item codes, no commas, at most 200 characters in all",
            "至少一个项目编码，不含逗号，合计不超过200个字符",
        )
    joined = ",".join(clean)
    if len(joined) > 200:
        raise InvalidValue(
            "items",
            "one or more item codes, no commas, at most 200 characters in all",
            "至少一个项目编码，不含逗号，合计不超过200个字符",
        )
    return joined


def create_deal(
    *,
    conn: Connection,
    ctx: AccessContext,
    scope: Scope,
    person_id: str,
    branch_id: str,
    items: list[str],
    amount_cents: int,
    visit_id: str | None = None,
    lead_id: str | None = None,
    followup_template_id: str | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    """Record a deal; with a template, create its follow-up tasks for the deal's consultant."""
    now = now or now_us()
    _amount(amount_cents)
    joined = _items(items)
    require_branch(conn=conn, tenant_id=ctx.tenant_id, branch_id=branch_id)
    require_person(conn=conn, tenant_id=ctx.tenant_id, person_id=person_id)
    if lead_id is not None:
        require_lead_of(conn=conn, tenant_id=ctx.tenant_id, lead_id=lead_id, person_id=person_id)
    if visit_id is not None:
        found = conn.execute(
            select(visit.c.person_id, visit.c.lead_id).where(
                visit.c.tenant_id == ctx.tenant_id, visit.c.id == visit_id
            )
        ).first()
        if found is None or found.person_id != person_id:
            raise not_found("visit_id", visit_id)
        lead_id = lead_id or found.lead_id
    is_first = (
        conn.execute(
            select(func.count()).where(
                deal.c.tenant_id == ctx.tenant_id, deal.c.person_id == person_id
            )
        ).scalar_one()
        == 0
    )
    deal_id = new_id()
    conn.execute(
        insert(deal).values(
            id=deal_id,
            tenant_id=ctx.tenant_id,
            person_id=person_id,
            lead_id=lead_id,
            visit_id=visit_id,
            branch_id=branch_id,
            consultant_id=scope.account_id,
            items=joined,
            amount_cents=amount_cents,
            is_first=is_first,
            closed_us=now,
        )
    )
    if lead_id is not None:
        conn.execute(update(lead).where(lead.c.id == lead_id).values(status="converted"))
    tasks: list[str] = []
    if followup_template_id is not None:
        tasks = plan_from_template(
            conn=conn,
            tenant_id=ctx.tenant_id,
            template_id=followup_template_id,
            person_id=person_id,
            owner_id=scope.account_id,
            start_us=now,
            deal_id=deal_id,
            lead_id=lead_id,
        )
    return {"deal_id": deal_id, "is_first": is_first, "followup_task_ids": tasks}


def _row(mapping: dict[str, Any]) -> dict[str, Any]:
    out = dict(mapping)
    out["items"] = str(out["items"]).split(",")
    return out


def get_deal(*, conn: Connection, scope: Scope, deal_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(deal).where(scope.where(deal, "consultant_id"), deal.c.id == deal_id)
    ).first()
    if row is None:
        raise not_found("deal_id", deal_id)
    return _row(dict(row._mapping))


def update_deal(
    *, conn: Connection, scope: Scope, deal_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Correct a deal's items and/or amount. ``is_first`` stays derived (the person's first
    deal), and person, branch and close time are facts the funnel keeps."""
    unknown = sorted(set(changes) - {"items", "amount_cents"})
    if unknown:
        raise InvalidValue(unknown[0], "not a field you can change", "该字段不可修改")
    get_deal(conn=conn, scope=scope, deal_id=deal_id)
    values: dict[str, Any] = {}
    if "items" in changes:
        if not isinstance(changes["items"], list):
            raise InvalidValue("items", "a list of item codes", "应为项目编码列表")
        values["items"] = _items(changes["items"])
    if "amount_cents" in changes:
        values["amount_cents"] = _amount(changes["amount_cents"])
    if values:
        conn.execute(
            update(deal)
            .where(deal.c.tenant_id == scope.tenant_id, deal.c.id == deal_id)
            .values(**values)
        )
    return get_deal(conn=conn, scope=scope, deal_id=deal_id)


def list_deals(
    *,
    conn: Connection,
    scope: Scope,
    person_id: str | None = None,
    branch_id: str | None = None,
    consultant_id: int | None = None,
    lead_id: str | None = None,
    is_first: bool | None = None,
    from_us: int | None = None,
    to_us: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of deals in scope (latest first); the period ``[from, to)`` is on the close
    time."""
    query = select(deal).where(scope.where(deal, "consultant_id"))
    for column, value in (
        (deal.c.person_id, person_id),
        (deal.c.branch_id, branch_id),
        (deal.c.consultant_id, consultant_id),
        (deal.c.lead_id, lead_id),
        (deal.c.is_first, is_first),
    ):
        if value is not None:
            query = query.where(column == value)
    if from_us is not None:
        query = query.where(deal.c.closed_us >= from_us)
    if to_us is not None:
        query = query.where(deal.c.closed_us < to_us)
    rows, total = paged(conn, query, [deal.c.closed_us.desc(), deal.c.id], limit, offset)
    return [_row(r) for r in rows], total
