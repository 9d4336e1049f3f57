"""Consulted, by intent and mode: ``{"filter": "consultation", "intent": ["high"]}``.

Only workflow facts (intent level, online/on-site); the sealed complaint and
notes and the item codes are never filter inputs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sqlalchemy import ColumnElement, exists

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Days, consultation


class ConsultationParams(Params):
    intent: list[Literal["high", "medium", "low"]] | None = Field(default=None, min_length=1)
    mode: Literal["online", "on_site"] | None = None
    within_days: Days | None = None


@register("consultation", ConsultationParams, description="had a consultation (intent, mode)")
def compile_consultation(params: ConsultationParams, ctx: CompileContext) -> ColumnElement[bool]:
    where = [consultation.c.tenant_id == ctx.tenant_id, consultation.c.person_id == ctx.person]
    if params.intent:
        where.append(consultation.c.intent_level.in_(params.intent))
    if params.mode:
        where.append(consultation.c.mode == params.mode)
    if params.within_days:
        where.append(consultation.c.created_us >= ctx.since(params.within_days))
    return exists().where(*where)
