"""Arrived in the window but closed no deal in it.

``{"filter": "arrived_no_deal", "within_days": 30}``
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, not_

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Days, deal, visit


class ArrivedNoDealParams(Params):
    within_days: Days = 30


@register(
    "arrived_no_deal",
    ArrivedNoDealParams,
    description="arrived in the last N days without a deal in those days",
)
def compile_arrived_no_deal(
    params: ArrivedNoDealParams, ctx: CompileContext
) -> ColumnElement[bool]:
    since = ctx.since(params.within_days)
    arrived = exists().where(
        visit.c.tenant_id == ctx.tenant_id,
        visit.c.person_id == ctx.person,
        visit.c.arrived_us >= since,
    )
    dealt = exists().where(
        deal.c.tenant_id == ctx.tenant_id,
        deal.c.person_id == ctx.person,
        deal.c.closed_us >= since,
    )
    return and_(arrived, not_(dealt))
