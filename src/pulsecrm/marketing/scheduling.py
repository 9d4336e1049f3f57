"""Scheduling a campaign: the last gate before M2's sender takes over.

A draft with a built audience becomes ``scheduled`` at the requested time,
moved out of quiet hours in the campaign's time zone. The gates that depend
on *when* it goes out are checked here, again:

* C6 — every medical-ad template's review certificate is still valid on the
  local send date;
* C7 — for HIPAA marketing, every audience member still holds an
  authorisation (one set-based count; any gap blocks the launch, since an
  authorisation may have been revoked after the audience was built).
"""

from __future__ import annotations

from sqlalchemy import Connection, func, not_, select

from pulsecrm.crm.ids import now_us
from pulsecrm.kernel.audit_records import Action
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import hipaa
from pulsecrm.marketing.access import audit, require_role
from pulsecrm.marketing.ad_lint import check_certificate
from pulsecrm.marketing.audience import stored_report
from pulsecrm.marketing.campaigns import (
    Campaign,
    consent_channel,
    load_campaign,
    local_today,
    set_status,
)
from pulsecrm.marketing.errors import AuthorizationMissing, CampaignState
from pulsecrm.marketing.quiet_hours import next_allowed_us
from pulsecrm.marketing.tables import campaign_audience


def unauthorised_count(kernel: Kernel, conn: Connection, found: Campaign, at_us: int) -> int:
    person = campaign_audience.c.person_id
    authorised = hipaa.authorised(
        found.tenant_id,
        person,
        found.purpose,
        consent_channel(found, kernel.catalog),
        at_us,
        remuneration=found.sponsor_paid,
    )
    return int(
        conn.execute(
            select(func.count())
            .select_from(campaign_audience)
            .where(
                campaign_audience.c.tenant_id == found.tenant_id,
                campaign_audience.c.campaign_id == found.id,
                not_(authorised),
            )
        ).scalar_one()
    )


def schedule_campaign(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    campaign_id: str,
    *,
    at_us: int | None = None,
    now: int | None = None,
) -> Campaign:
    require_role(kernel, ctx, write=True, what="campaigns", record=False)
    current = now if now is not None else now_us()
    found = load_campaign(conn, ctx.tenant_id, campaign_id)
    if found.status != "draft":
        raise CampaignState(
            "status",
            f"only a draft can be scheduled (this one is {found.status})",
            f"只有草稿可以排期（当前状态：{found.status}）",
            rule="not_draft",
        )
    if stored_report(conn, ctx.tenant_id, campaign_id) is None:
        raise CampaignState(
            "audience",
            "build the audience first (POST /campaigns/{id}/audience)",
            "请先生成受众（POST /campaigns/{id}/audience）",
            rule="audience_not_built",
        )
    when = next_allowed_us(found, max(at_us or current, current))
    if found.medical_ad:
        send_day = local_today(found.timezone, when)
        for locale, template in sorted(found.templates.items()):
            check_certificate(
                locale=locale,
                cert_id=template.review_cert_id,
                expires=template.review_cert_expires,
                on=send_day,
            )
    if found.hipaa_class == "marketing":
        missing = unauthorised_count(kernel, conn, found, current)
        if missing:
            raise AuthorizationMissing(
                "audience",
                f"{missing} recipient(s) hold no HIPAA marketing authorisation "
                "(45 CFR 164.508(a)(3)); rebuild the audience",
                f"{missing} 位接收人没有 HIPAA 营销授权；请重新生成受众",
            )
    set_status(conn, ctx.tenant_id, campaign_id, "scheduled", scheduled_us=when)
    audit(
        conn,
        kernel,
        ctx,
        Action.WRITE,
        {"campaign": campaign_id, "status": "scheduled", "scheduled_us": when},
        purpose=found.purpose,
    )
    return load_campaign(conn, ctx.tenant_id, campaign_id)
