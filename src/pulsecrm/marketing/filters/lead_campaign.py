"""A lead from a campaign (or utm_campaign).

``{"filter": "lead_campaign", "in": ["spring-implant"]}``
"""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import ColumnElement, exists, or_

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Days, Values, lead


class LeadCampaignParams(Params):
    values: Values = Field(alias="in")
    within_days: Days | None = None


@register("lead_campaign", LeadCampaignParams, description="has a lead from one of the campaigns")
def compile_lead_campaign(params: LeadCampaignParams, ctx: CompileContext) -> ColumnElement[bool]:
    where = [
        lead.c.tenant_id == ctx.tenant_id,
        lead.c.person_id == ctx.person,
        or_(lead.c.campaign.in_(params.values), lead.c.utm_campaign.in_(params.values)),
    ]
    if params.within_days:
        where.append(lead.c.created_us >= ctx.since(params.within_days))
    return exists().where(*where)
