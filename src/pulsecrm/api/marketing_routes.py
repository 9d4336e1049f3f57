"""Segments and campaigns under ``/api/v1`` (marketing managers; privacy officers may read).

Thin adapters over ``pulsecrm.marketing``: bodies forbid unknown fields, every
rule error names its field (a JSON path inside a segment tree) and rule, in
the caller's language; every change is audited by the service in its own
transaction, refusals by the kernel's audit writer. Previews show masked
identifiers only, read through the kernel vault.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.deps import get_kernel, staff
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import audience, campaigns, scheduling, segments
from pulsecrm.marketing.access import require_role
from pulsecrm.marketing.campaigns import CampaignSpec, TemplateSpec
from pulsecrm.marketing.filters import load_all
from pulsecrm.marketing.personalisation import personalisation_enabled, set_personalisation
from pulsecrm.store.engine import read_connection

router = APIRouter(prefix="/api/v1", tags=["marketing"])
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
DEFAULT_PURPOSE = "marketing.sms"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SegmentIn(Body):
    name: str = Field(min_length=1, max_length=100)
    purpose: str = Field(min_length=1, max_length=64)
    definition: dict[str, Any]


class PreviewIn(Body):
    purpose: str = Field(min_length=1, max_length=64)
    definition: dict[str, Any]
    sample: int = Field(default=5, ge=0, le=segments.SAMPLE_MAX)


class CampaignPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    purpose: str | None = Field(default=None, min_length=1, max_length=64)
    channel: Literal["sms", "email", "wechat", "outbox"] | None = None
    segment_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    sender_name: str | None = Field(default=None, min_length=1, max_length=100)
    templates: dict[Literal["zh-CN", "en"], TemplateSpec] | None = Field(default=None, min_length=1)
    timezone: str | None = Field(default=None, max_length=64)
    quiet_start_min: int | None = Field(default=None, ge=0, le=1439)
    quiet_end_min: int | None = Field(default=None, ge=0, le=1439)
    frequency_cap: int | None = Field(default=None, ge=1, le=100)
    frequency_window_days: int | None = Field(default=None, ge=1, le=365)
    send_rate_per_s: int | None = Field(default=None, ge=1, le=10_000)
    medical_ad: bool | None = None
    sponsor_paid: bool | None = None
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


class ScheduleIn(Body):
    # when to start (ISO 8601 with offset); omitted = now. Moved out of quiet hours.
    at: datetime | None = None


class PersonalisationIn(Body):
    enabled: bool


def _page(items: list[dict[str, Any]], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _json_ready(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}


# -- segments --------------------------------------------------------------------------
@router.get("/segments/filters")
def list_filters(
    principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> list[dict[str, Any]]:
    """The filter registry: name, description, parameters (JSON Schema), health-derived or not."""
    require_role(kernel, principal.context(DEFAULT_PURPOSE), write=False, what="segments")
    return [
        {
            "name": f.name,
            "description": f.description,
            "health": f.health,
            "profiling": f.profiling,
            "params": f.params.model_json_schema(by_alias=True),
        }
        for f in sorted(load_all().values(), key=lambda f: f.name)
    ]


@router.post("/segments", status_code=201)
def create_segment(
    body: SegmentIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    ctx = principal.context(body.purpose)
    require_role(kernel, ctx, write=True, what="segments")
    with kernel.engine.begin() as conn:
        made = segments.create_segment(
            conn, kernel, ctx, name=body.name, definition=body.definition, purpose=body.purpose
        )
    return made.public()


@router.get("/segments")
def list_segments(
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    require_role(kernel, principal.context(DEFAULT_PURPOSE), write=False, what="segments")
    with read_connection(kernel.engine) as conn, conn.begin():
        rows, total = segments.list_segments(conn, principal.tenant_id, limit=limit, offset=offset)
    return _page([r.public() for r in rows], total, limit, offset)


@router.get("/segments/{segment_id}")
def get_segment(
    segment_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    require_role(kernel, principal.context(DEFAULT_PURPOSE), write=False, what="segments")
    with read_connection(kernel.engine) as conn, conn.begin():
        return segments.get_segment(conn, principal.tenant_id, segment_id).public()


@router.post("/segments/preview")
def preview_definition(
    body: PreviewIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Count and masked sample of an unsaved tree (try before you save)."""
    ctx = principal.context(body.purpose)
    require_role(kernel, ctx, write=True, what="segments")
    with read_connection(kernel.engine) as conn, conn.begin():
        return segments.preview(
            conn, kernel, ctx, definition=body.definition, purpose=body.purpose, sample=body.sample
        )


@router.post("/segments/{segment_id}/preview")
def preview_segment(
    segment_id: Id,
    sample: Annotated[int, Query(ge=0, le=segments.SAMPLE_MAX)] = 5,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    require_role(kernel, principal.context(DEFAULT_PURPOSE), write=True, what="segments")
    with read_connection(kernel.engine) as conn, conn.begin():
        saved = segments.get_segment(conn, principal.tenant_id, segment_id)
        ctx = principal.context(saved.purpose)
        result = segments.preview(
            conn, kernel, ctx, definition=saved.definition, purpose=saved.purpose, sample=sample
        )
    return {"segment_id": segment_id, **result}


# -- campaigns ---------------------------------------------------------------------------
def _campaign_out(kernel: Kernel, tenant_id: int, campaign_id: str) -> dict[str, Any]:
    with read_connection(kernel.engine) as conn, conn.begin():
        found = campaigns.load_campaign(conn, tenant_id, campaign_id)
        report = audience.stored_report(conn, tenant_id, campaign_id)
    data = _json_ready(found.public())
    data["audience"] = report.public() if report else None
    return data


@router.post("/campaigns", status_code=201)
def create_campaign(
    body: CampaignSpec,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    ctx = principal.context(body.purpose)
    require_role(kernel, ctx, write=True, what="campaigns")
    with kernel.engine.begin() as conn:
        made = campaigns.create_campaign(conn, kernel, ctx, body)
    return _campaign_out(kernel, principal.tenant_id, made.id)


@router.get("/campaigns")
def list_campaigns(
    status: Annotated[
        Literal["draft", "scheduled", "sending", "done", "cancelled"] | None, Query()
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    require_role(kernel, principal.context(DEFAULT_PURPOSE), write=False, what="campaigns")
    with read_connection(kernel.engine) as conn, conn.begin():
        rows, total = campaigns.list_campaigns(
            conn, principal.tenant_id, status=status, limit=limit, offset=offset
        )
    return _page([_json_ready(r.public()) for r in rows], total, limit, offset)


@router.get("/campaigns/{campaign_id}")
def get_campaign(
    campaign_id: Id,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    require_role(kernel, principal.context(DEFAULT_PURPOSE), write=False, what="campaigns")
    return _campaign_out(kernel, principal.tenant_id, campaign_id)


@router.patch("/campaigns/{campaign_id}")
def update_campaign(
    campaign_id: Id,
    body: CampaignPatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    patch = body.model_dump(exclude_unset=True)
    if "templates" in patch and body.templates is not None:
        patch["templates"] = {k: v.model_dump(exclude_none=True) for k, v in body.templates.items()}
    ctx = principal.context(body.purpose or DEFAULT_PURPOSE)
    require_role(kernel, ctx, write=True, what="campaigns")
    with kernel.engine.begin() as conn:
        campaigns.update_campaign(conn, kernel, ctx, campaign_id, patch)
    return _campaign_out(kernel, principal.tenant_id, campaign_id)


@router.post("/campaigns/{campaign_id}/audience")
def build_audience(
    campaign_id: Id,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """(Re)build the audience set-based; the report counts exclusions by first reason."""
    ctx = principal.context(DEFAULT_PURPOSE)
    require_role(kernel, ctx, write=True, what="campaigns")
    with kernel.engine.begin() as conn:
        report = audience.build_for(conn, kernel, ctx, campaign_id, now_us())
    return report.public()


@router.post("/campaigns/{campaign_id}/schedule")
def schedule_campaign(
    campaign_id: Id,
    body: ScheduleIn | None = None,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    at = body.at if body else None
    at_us = int(at.timestamp() * 1_000_000) if at is not None else None
    ctx = principal.context(DEFAULT_PURPOSE)
    require_role(kernel, ctx, write=True, what="campaigns")
    with kernel.engine.begin() as conn:
        scheduling.schedule_campaign(conn, kernel, ctx, campaign_id, at_us=at_us)
    return _campaign_out(kernel, principal.tenant_id, campaign_id)


@router.post("/campaigns/{campaign_id}/cancel")
def cancel_campaign(
    campaign_id: Id,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    ctx = principal.context(DEFAULT_PURPOSE)
    require_role(kernel, ctx, write=True, what="campaigns")
    with kernel.engine.begin() as conn:
        campaigns.cancel_campaign(conn, kernel, ctx, campaign_id)
    return _campaign_out(kernel, principal.tenant_id, campaign_id)


# -- personalisation (C4) ------------------------------------------------------------------
@router.put("/people/{person_id}/personalization")
def put_personalisation(
    person_id: Id,
    body: PersonalisationIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Record a person's choice to switch profiling for marketing off (or back on).

    Any staff member may record it — a refusal must never wait for the right
    role; it takes effect in every profile-based segment at once.
    """
    ctx = principal.context("compliance.dsr")
    with kernel.engine.begin() as conn:
        set_personalisation(
            conn,
            kernel,
            ctx,
            person_id=person_id,
            enabled=body.enabled,
            source="staff",
            route="/api/v1/people/{id}/personalization",
        )
        enabled = personalisation_enabled(conn, principal.tenant_id, person_id)
    return {"person_id": person_id, "personalization": enabled}
