"""``{"filter": "health_tag", "any_of": ["种植意向"]}`` — a tag derived from health data.

Only for segments of purpose ``marketing.personalized_health``; the compiler
adds the person's current separate consent to the predicate (C4).
"""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import ColumnElement, exists, or_

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Values, person_tag, tag


class HealthTagParams(Params):
    names: Values = Field(alias="any_of")


@register(
    "health_tag",
    HealthTagParams,
    description="has one of the health-derived tags (separate consent required)",
    health=True,
)
def compile_health_tag(params: HealthTagParams, ctx: CompileContext) -> ColumnElement[bool]:
    return exists().where(
        person_tag.c.tenant_id == ctx.tenant_id,
        person_tag.c.person_id == ctx.person,
        tag.c.id == person_tag.c.tag_id,
        tag.c.tenant_id == ctx.tenant_id,
        or_(tag.c.from_health.is_(True), person_tag.c.derived_from_health.is_(True)),
        tag.c.name.in_(params.names),
    )
