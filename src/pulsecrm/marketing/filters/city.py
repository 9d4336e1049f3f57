"""``{"filter": "city", "in": ["上海", "杭州"]}`` — the city on the pseudonymous profile."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import ColumnElement

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Values, profile


class CityParams(Params):
    values: Values = Field(alias="in")


@register("city", CityParams, description="profile city is one of the values")
def compile_city(params: CityParams, ctx: CompileContext) -> ColumnElement[bool]:
    return profile.c.city.in_(params.values)
