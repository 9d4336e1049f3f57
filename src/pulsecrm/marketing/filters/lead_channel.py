"""A lead came in on a channel.

``{"filter": "lead_channel", "in": ["douyin"], "within_days": 90}``
"""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import ColumnElement, exists

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Days, Values, lead


class LeadChannelParams(Params):
    values: Values = Field(alias="in")
    within_days: Days | None = None


@register("lead_channel", LeadChannelParams, description="has a lead from one of the channels")
def compile_lead_channel(params: LeadChannelParams, ctx: CompileContext) -> ColumnElement[bool]:
    where = [
        lead.c.tenant_id == ctx.tenant_id,
        lead.c.person_id == ctx.person,
        lead.c.channel.in_(params.values),
    ]
    if params.within_days:
        where.append(lead.c.created_us >= ctx.since(params.within_days))
    return exists().where(*where)
