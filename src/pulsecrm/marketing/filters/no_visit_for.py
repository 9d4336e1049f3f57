"""No arrival in the last N days: ``{"filter": "no_visit_for", "days": 180}``.

Never visited counts. Shorthand for ``{"not": {"filter": "visited", "within_days": N}}``, the
commonest re-activation audience.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, not_

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Days
from pulsecrm.marketing.filters.visited import VisitedParams, compile_visited


class NoVisitParams(Params):
    days: Days


@register("no_visit_for", NoVisitParams, description="no visit in the last N days")
def compile_no_visit(params: NoVisitParams, ctx: CompileContext) -> ColumnElement[bool]:
    return not_(compile_visited(VisitedParams(within_days=params.days), ctx))
