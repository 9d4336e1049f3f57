"""``{"filter": "visited", "within_days": 90}`` — arrived at a branch (ever, or in the window)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Days, visit


class VisitedParams(Params):
    within_days: Days | None = None


@register("visited", VisitedParams, description="visited (in the last N days, or ever)")
def compile_visited(params: VisitedParams, ctx: CompileContext) -> ColumnElement[bool]:
    where = [visit.c.tenant_id == ctx.tenant_id, visit.c.person_id == ctx.person]
    if params.within_days:
        where.append(visit.c.arrived_us >= ctx.since(params.within_days))
    return exists().where(*where)
