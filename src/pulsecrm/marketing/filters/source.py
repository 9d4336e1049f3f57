"""``{"filter": "source", "in": ["douyin", ...]}`` — where the person first came from."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import ColumnElement

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Values, profile


class SourceParams(Params):
    values: Values = Field(alias="in")


@register("source", SourceParams, description="profile source channel is one of the values")
def compile_source(params: SourceParams, ctx: CompileContext) -> ColumnElement[bool]:
    return profile.c.source_channel.in_(params.values)
