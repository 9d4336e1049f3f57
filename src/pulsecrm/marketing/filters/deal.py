"""``{"filter": "deal", "within_days": 365, "min_amount_cents": 100000}`` — closed a deal."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import ColumnElement, exists

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Days, deal


class DealParams(Params):
    within_days: Days | None = None
    min_amount_cents: int | None = Field(default=None, ge=0)


@register("deal", DealParams, description="closed a deal (in the last N days, above an amount)")
def compile_deal(params: DealParams, ctx: CompileContext) -> ColumnElement[bool]:
    where = [deal.c.tenant_id == ctx.tenant_id, deal.c.person_id == ctx.person]
    if params.within_days:
        where.append(deal.c.closed_us >= ctx.since(params.within_days))
    if params.min_amount_cents is not None:
        where.append(deal.c.amount_cents >= params.min_amount_cents)
    return exists().where(*where)
