"""Campaigns: what is sent, for which purpose, to which segment, on which channel, and how.

A campaign is checked as a whole every time it is saved (create, or update
while still a draft), so a stored campaign always satisfies:

* its purpose is a consent-based marketing purpose whose channels include the
  campaign's channel (the local ``outbox`` demo channel stands in for the
  purpose's first channel), and a segment using health-derived filters is only
  used for ``marketing.personalized_health`` (B5: no purpose drift);
* every template names the sender and carries the opt-out (C2,
  ``template_lint``); a medical-service ad also has a valid review
  certificate, an “广告” label and no banned claim (C6, ``ad_lint``);
* under the HIPAA profile a PHI communication carries its class (C7, ``hipaa``).

Scheduling re-checks the certificates against the send date and, for HIPAA
marketing, that every audience member still holds an authorisation.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, delete, func, insert, select, update

from pulsecrm.catalog.loader import Catalog
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.kernel.audit_records import Action
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import hipaa
from pulsecrm.marketing.access import audit, require_role
from pulsecrm.marketing.ad_lint import lint_ad
from pulsecrm.marketing.consent_sql import HEALTH_PURPOSE
from pulsecrm.marketing.errors import CampaignInvalid, CampaignState, not_found
from pulsecrm.marketing.quiet_hours import zone
from pulsecrm.marketing.segment_tree import parse, uses_health
from pulsecrm.marketing.segments import check_purpose, get_segment
from pulsecrm.marketing.tables import campaign, campaign_template
from pulsecrm.marketing.template_lint import lint_template

CHANNELS = ("sms", "email", "wechat", "outbox")
LOCALES = ("zh-CN", "en")
EDITABLE = ("draft",)
CANCELLABLE = ("draft", "scheduled", "sending")
_URL = re.compile(r"https?://[^\s<>\"'）)】]+")


class TemplateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    subject: str | None = Field(default=None, max_length=200)
    body: str = Field(min_length=1, max_length=4000)
    review_cert_id: str | None = Field(default=None, max_length=64)
    review_cert_expires: date | None = None


class CampaignSpec(BaseModel):
    """Everything a user sets on a campaign; defaults are the documented ones."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    purpose: str = Field(min_length=1, max_length=64)
    channel: Literal["sms", "email", "wechat", "outbox"]
    segment_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    sender_name: str = Field(min_length=1, max_length=100)
    templates: dict[Literal["zh-CN", "en"], TemplateSpec] = Field(min_length=1)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    quiet_start_min: int = Field(default=1260, ge=0, le=1439)
    quiet_end_min: int = Field(default=480, ge=0, le=1439)
    frequency_cap: int = Field(default=2, ge=1, le=100)
    frequency_window_days: int = Field(default=7, ge=1, le=365)
    send_rate_per_s: int = Field(default=50, ge=1, le=10_000)
    medical_ad: bool = False
    sponsor_paid: bool = False
    hipaa_class: (
        Literal[
            "treatment",
            "care_coordination",
            "refill_reminder",
            "operations",
            "fundraising",
            "marketing",
        ]
        | None
    ) = None


@dataclass(frozen=True)
class Template:
    locale: str
    subject: str | None
    body: str
    review_cert_id: str | None
    review_cert_expires: date | None


@dataclass(frozen=True)
class Campaign:
    id: str
    tenant_id: int
    name: str
    purpose: str
    channel: str
    segment_id: str
    status: str
    scheduled_us: int | None
    timezone: str
    quiet_start_min: int
    quiet_end_min: int
    frequency_cap: int
    frequency_window_days: int
    send_rate_per_s: int
    sender_name: str
    hipaa_class: str | None
    medical_ad: bool
    sponsor_paid: bool
    created_by: str
    created_us: int
    updated_us: int
    templates: dict[str, Template] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "templates"}
        data["templates"] = {
            locale: {
                "subject": t.subject,
                "body": t.body,
                "review_cert_id": t.review_cert_id,
                "review_cert_expires": (
                    t.review_cert_expires.isoformat() if t.review_cert_expires else None
                ),
            }
            for locale, t in sorted(self.templates.items())
        }
        return data


@dataclass(frozen=True)
class RenderedMessage:
    subject: str | None
    text: str
    html: str | None
    headers: dict[str, str] = field(default_factory=dict)


def consent_channel(found: Campaign, catalog: Catalog) -> str:
    """The channel consent is checked on: the campaign's, or for the outbox demo channel the
    purpose's first channel (the outbox stands in for it in demos and tests)."""
    if found.channel != "outbox":
        return found.channel
    channels = catalog.purpose(found.purpose).channels
    return channels[0] if channels else "sms"


# -- loading ------------------------------------------------------------------------
def load_campaign(conn: Connection, tenant_id: int, campaign_id: str) -> Campaign:
    row = conn.execute(
        select(campaign).where(campaign.c.tenant_id == tenant_id, campaign.c.id == campaign_id)
    ).first()
    if row is None:
        raise not_found("campaign_id", campaign_id)
    templates = {
        t.locale: Template(
            t.locale, t.subject, t.body, t.review_cert_id, _as_date(t.review_cert_expires)
        )
        for t in conn.execute(
            select(campaign_template).where(
                campaign_template.c.tenant_id == tenant_id,
                campaign_template.c.campaign_id == campaign_id,
            )
        )
    }
    values = {c.name: getattr(row, c.name) for c in campaign.columns}
    values["medical_ad"] = bool(values["medical_ad"])
    values["sponsor_paid"] = bool(values["sponsor_paid"])
    return Campaign(**values, templates=templates)


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def list_campaigns(
    conn: Connection, tenant_id: int, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Campaign], int]:
    where = [campaign.c.tenant_id == tenant_id]
    if status:
        where.append(campaign.c.status == status)
    ids = conn.execute(
        select(campaign.c.id)
        .where(*where)
        .order_by(campaign.c.created_us.desc(), campaign.c.id)
        .limit(limit)
        .offset(offset)
    ).scalars()
    total = conn.execute(select(func.count()).select_from(campaign).where(*where)).scalar_one()
    return [load_campaign(conn, tenant_id, i) for i in ids], int(total)


# -- checking -------------------------------------------------------------------------
def local_today(tz_name: str, at_us: int | None = None) -> date:
    at = at_us if at_us is not None else now_us()
    return datetime.fromtimestamp(at / 1_000_000, UTC).astimezone(zone(tz_name)).date()


def check_spec(conn: Connection, kernel: Kernel, tenant_id: int, spec: CampaignSpec) -> str | None:
    """Every rule a stored campaign satisfies; returns the HIPAA class to store."""
    check_purpose(kernel.catalog, spec.purpose)
    purpose = kernel.catalog.purpose(spec.purpose)
    if spec.channel != "outbox" and spec.channel not in purpose.channels:
        raise CampaignInvalid(
            "channel",
            f"purpose {spec.purpose} covers {', '.join(purpose.channels)}, not {spec.channel}",
            f"目的 {spec.purpose} 仅适用于 {'、'.join(purpose.channels)}，不含 {spec.channel}",
            rule="channel_not_in_purpose",
        )
    zone(spec.timezone)
    seg = get_segment(conn, tenant_id, spec.segment_id)
    health = uses_health(parse(seg.definition))
    if health and spec.purpose != HEALTH_PURPOSE:
        raise CampaignInvalid(
            "segment_id",
            f"the segment uses health-derived filters: the purpose must be {HEALTH_PURPOSE}",
            f"该人群使用健康信息筛选：目的必须为 {HEALTH_PURPOSE}",
            rule="purpose_mismatch",
        )
    today = local_today(spec.timezone)
    for locale, template in spec.templates.items():
        lint_template(
            channel=spec.channel,
            locale=locale,
            body=template.body,
            subject=template.subject,
            sender_name=spec.sender_name,
        )
        if spec.medical_ad:
            lint_ad(
                locale=locale,
                body=template.body,
                subject=template.subject,
                cert_id=template.review_cert_id,
                expires=template.review_cert_expires,
                on=today,
            )
    if not hipaa.hipaa_profile(conn, tenant_id):
        return None
    return hipaa.classify(
        uses_phi=hipaa.uses_phi(spec.purpose, health),
        declared=spec.hipaa_class,
        sponsor_paid=spec.sponsor_paid,
    )


def spec_columns(spec: CampaignSpec, hipaa_class: str | None) -> dict[str, Any]:
    values = spec.model_dump(exclude={"templates", "hipaa_class"})
    values["hipaa_class"] = hipaa_class
    return values


def _write_templates(
    conn: Connection, tenant_id: int, campaign_id: str, spec: CampaignSpec
) -> None:
    conn.execute(
        delete(campaign_template).where(
            campaign_template.c.tenant_id == tenant_id,
            campaign_template.c.campaign_id == campaign_id,
        )
    )
    conn.execute(
        insert(campaign_template),
        [
            {
                "tenant_id": tenant_id,
                "campaign_id": campaign_id,
                "locale": locale,
                **template.model_dump(),
            }
            for locale, template in sorted(spec.templates.items())
        ],
    )


# -- changing -------------------------------------------------------------------------
def create_campaign(
    conn: Connection, kernel: Kernel, ctx: AccessContext, spec: CampaignSpec
) -> Campaign:
    require_role(kernel, ctx, write=True, what="campaigns", record=False)
    hipaa_class = check_spec(conn, kernel, ctx.tenant_id, spec)
    campaign_id, at = new_id(), now_us()
    conn.execute(
        insert(campaign).values(
            id=campaign_id,
            tenant_id=ctx.tenant_id,
            status="draft",
            scheduled_us=None,
            created_by=ctx.actor,
            created_us=at,
            updated_us=at,
            **spec_columns(spec, hipaa_class),
        )
    )
    _write_templates(conn, ctx.tenant_id, campaign_id, spec)
    audit(conn, kernel, ctx, Action.CREATE, {"campaign": campaign_id}, purpose=spec.purpose)
    return load_campaign(conn, ctx.tenant_id, campaign_id)


def spec_of(found: Campaign) -> dict[str, Any]:
    data = found.public()
    keep = set(CampaignSpec.model_fields)
    spec = {k: v for k, v in data.items() if k in keep}
    spec["templates"] = {
        locale: {k: v for k, v in t.items() if v is not None}
        for locale, t in data["templates"].items()
    }
    return spec


def update_campaign(
    conn: Connection, kernel: Kernel, ctx: AccessContext, campaign_id: str, patch: dict[str, Any]
) -> Campaign:
    """Apply ``patch`` (any spec fields; ``templates`` replaces them all) to a draft."""
    require_role(kernel, ctx, write=True, what="campaigns", record=False)
    found = load_campaign(conn, ctx.tenant_id, campaign_id)
    if found.status not in EDITABLE:
        raise CampaignState(
            "status",
            f"only a draft can be changed (this one is {found.status})",
            f"只有草稿可以修改（当前状态：{found.status}）",
            rule="not_draft",
        )
    merged = {**spec_of(found), **patch}
    try:
        spec = CampaignSpec.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise CampaignInvalid(
            where, str(first["msg"]), f"字段值无效：{first['msg']}", rule=str(first["type"])
        ) from None
    hipaa_class = check_spec(conn, kernel, ctx.tenant_id, spec)
    conn.execute(
        update(campaign)
        .where(campaign.c.tenant_id == ctx.tenant_id, campaign.c.id == campaign_id)
        .values(updated_us=now_us(), **spec_columns(spec, hipaa_class))
    )
    _write_templates(conn, ctx.tenant_id, campaign_id, spec)
    audit(
        conn,
        kernel,
        ctx,
        Action.WRITE,
        {"campaign": campaign_id, "changed": sorted(patch)},
        purpose=spec.purpose,
    )
    return load_campaign(conn, ctx.tenant_id, campaign_id)


def set_status(
    conn: Connection, tenant_id: int, campaign_id: str, status: str, *, scheduled_us: int | None
) -> None:
    values: dict[str, Any] = {"status": status, "updated_us": now_us()}
    if scheduled_us is not None:
        values["scheduled_us"] = scheduled_us
    conn.execute(
        update(campaign)
        .where(campaign.c.tenant_id == tenant_id, campaign.c.id == campaign_id)
        .values(**values)
    )


def cancel_campaign(
    conn: Connection, kernel: Kernel, ctx: AccessContext, campaign_id: str
) -> Campaign:
    require_role(kernel, ctx, write=True, what="campaigns", record=False)
    found = load_campaign(conn, ctx.tenant_id, campaign_id)
    if found.status not in CANCELLABLE:
        raise CampaignState(
            "status",
            f"a {found.status} campaign cannot be cancelled",
            f"状态为 {found.status} 的活动无法取消",
            rule="not_cancellable",
        )
    set_status(conn, ctx.tenant_id, campaign_id, "cancelled", scheduled_us=None)
    audit(
        conn,
        kernel,
        ctx,
        Action.WRITE,
        {"campaign": campaign_id, "status": "cancelled"},
        purpose=found.purpose,
    )
    return load_campaign(conn, ctx.tenant_id, campaign_id)


# -- rendering -------------------------------------------------------------------------
def pick_template(found: Campaign, locale: str) -> Template:
    if locale in found.templates:
        return found.templates[locale]
    for fallback in LOCALES:
        if fallback in found.templates:
            return found.templates[fallback]
    raise not_found("locale", locale)


def render(
    found: Campaign,
    locale: str,
    *,
    unsubscribe_url: str | None,
    click_url: Callable[[str], str] | None,
) -> RenderedMessage:
    """The message for one locale: sender identity and opt-out in, links rewritten for tracking.

    Links are only rewritten when ``click_url`` is given (the sender passes it
    only for people who consented to click tracking, C9); the unsubscribe link
    is never rewritten, so opting out never depends on a tracker.
    """
    template = pick_template(found, locale)
    sender = f"【{found.sender_name}】" if found.channel == "sms" else found.sender_name
    unsubscribe = unsubscribe_url or ""

    def fill(text: str) -> str:
        if click_url is not None:
            text = _URL.sub(lambda m: click_url(m.group(0)), text)
        return text.replace("{sender}", sender).replace("{unsubscribe_url}", unsubscribe)

    text = fill(template.body)
    subject = fill(template.subject) if template.subject else None
    markup = None
    if found.channel == "email":
        escaped = html.escape(text)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        markup = "<html><body><p>" + linked.replace("\n", "<br>\n") + "</p></body></html>"
    return RenderedMessage(subject, text, markup, {})
