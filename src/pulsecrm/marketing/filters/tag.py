"""``{"filter": "tag", "any_of": ["VIP"]}`` — a staff-given or derived tag NOT from health data.

Health-derived tags never match here (``health_tag`` covers them, under its
stricter rules); a segment naming one is refused when it is saved.
"""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import ColumnElement, exists

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Values, person_tag, tag


class TagParams(Params):
    names: Values = Field(alias="any_of")


@register("tag", TagParams, description="has one of the (non-health) tags")
def compile_tag(params: TagParams, ctx: CompileContext) -> ColumnElement[bool]:
    return exists().where(
        person_tag.c.tenant_id == ctx.tenant_id,
        person_tag.c.person_id == ctx.person,
        person_tag.c.derived_from_health.is_(False),
        tag.c.id == person_tag.c.tag_id,
        tag.c.tenant_id == ctx.tenant_id,
        tag.c.from_health.is_(False),
        tag.c.name.in_(params.names),
    )
