"""Deals (成交): items, amount, first vs repeat — and the follow-up plan they start."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pulsecrm.crm.clinic_tables import deal, lead, visit
from pulsecrm.crm.errors import not_found
from pulsecrm.crm.followup_service import plan_from_template
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.crm.lead_service import require_person
from pulsecrm.crm.org_service import require_branch
from pulsecrm.crm.scope import Scope
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue

MAX_AMOUNT_CENTS = 100_000_000_00  # 100 million yuan


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
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise InvalidValue("amount_cents", "a positive amount in cents", "金额（分）必须为正数")
    clean = [i.strip() for i in items if i.strip()]
    if not clean or len(",".join(clean)) > 200:
        raise InvalidValue(
            "items",
            "one or more item codes, at most 200 characters",
            "至少一个项目，不超过200个字符",
        )
    require_branch(conn=conn, tenant_id=ctx.tenant_id, branch_id=branch_id)
    require_person(conn=conn, tenant_id=ctx.tenant_id, person_id=person_id)
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
            items=",".join(clean),
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


def list_deals(
    *,
    conn: Connection,
    scope: Scope,
    person_id: str | None = None,
    branch_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    query = select(deal).where(scope.where(deal, "consultant_id"))
    if person_id is not None:
        query = query.where(deal.c.person_id == person_id)
    if branch_id is not None:
        query = query.where(deal.c.branch_id == branch_id)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(
        query.order_by(deal.c.closed_us.desc()).limit(min(limit, 200)).offset(offset)
    )
    out = []
    for r in rows:
        item = dict(r._mapping)
        item["items"] = str(item["items"]).split(",")
        out.append(item)
    return out, int(total)
