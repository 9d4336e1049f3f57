"""``POST /api/v1/webhooks/leads/{platform}``: leads pushed by ad platforms (抖音, 百度 …).

* **Authentication**: HMAC-SHA256 over the raw request body with the platform's
  secret, sent as ``X-PulseCRM-Signature: sha256=<hex>`` (bare hex accepted).
  The secret comes from the environment, one per platform:
  ``PULSECRM_WEBHOOK_SECRET_<PLATFORM>`` (platform upper-cased, e.g.
  ``PULSECRM_WEBHOOK_SECRET_DOUYIN``). No secret configured, no or a wrong
  signature → 401, and nothing is read from the body.
* **Validation**: the body is a JSON object with the fields of ``LeadWebhookIn``;
  an unknown field, a bad value or a missing contact → 422 naming the field.
* **Idempotency**: keyed on the platform's lead id (``lead_id``; unique per
  tenant and platform in ``lead``). A second delivery answers 200 with the same
  lead id and writes nothing; a delivery racing another one loses on the unique
  constraint, rolls back and answers the same way.
* **Attribution**: channel (default: the platform), campaign and UTM are kept on
  the lead; a new person's pseudonymous profile gets ``source_channel``. An
  existing person (same phone or e-mail, by blind index) gets a new lead.
* **Owner**: chosen by the CRM assignment rules (channel, branch, default team;
  round robin within the team).

Runs as actor ``webhook.<platform>`` with the consultant grants for
``service.appointment`` (the person asked to be contacted).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from pulsecrm.api.deps import get_kernel
from pulsecrm.api.errors import error_body, locale_of
from pulsecrm.crm import lead_service, people_service
from pulsecrm.crm.person_rows import RowError, parse_person_row
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection

router = APIRouter(prefix="/api/v1", tags=["webhooks"])
SIGNATURE_HEADER = "x-pulsecrm-signature"
SECRET_ENV = "PULSECRM_WEBHOOK_SECRET_{}"
PURPOSE = "service.appointment"
ROLE = "lead_intake"  # may match and write, never reveal
MAX_BODY = 64 * 1024


class LeadWebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lead_id: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=100)
    city: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, min_length=1, max_length=64)
    campaign: str | None = Field(default=None, max_length=100)
    utm_source: str | None = Field(default=None, max_length=100)
    utm_medium: str | None = Field(default=None, max_length=100)
    utm_campaign: str | None = Field(default=None, max_length=100)
    branch_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters are not allowed")
        return value


def platform_secret(platform: str) -> bytes | None:
    secret = os.environ.get(SECRET_ENV.format(platform.upper()), "")
    return secret.encode("utf-8") if secret else None


def sign(secret: bytes, body: bytes) -> str:
    """The header value a platform sends: ``sha256=<hex HMAC-SHA256 of the raw body>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _signature_ok(platform: str, body: bytes, header: str | None) -> bool:
    secret = platform_secret(platform)
    if secret is None or not header:
        return False
    given = header.strip()
    given = given.removeprefix("sha256=")
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.lower().encode("ascii", "replace"), expected.encode("ascii"))


def _unauthorised(request: Request) -> JSONResponse:
    en = locale_of(request) == "en"
    return JSONResponse(
        error_body(
            "unauthorised",
            SIGNATURE_HEADER,
            "bad_signature",
            "missing or invalid webhook signature" if en else "Webhook 签名缺失或无效",
        ),
        status_code=401,
    )


def receive_lead(
    *, kernel: Kernel, platform: str, body: LeadWebhookIn, locale: str
) -> tuple[str, bool]:
    """Store the lead once; return its id and whether it was created now."""
    tenant_id = kernel.tenant_id()
    with read_connection(kernel.engine) as conn:
        known = lead_service.find_by_platform(
            conn=conn, tenant_id=tenant_id, platform=platform, platform_lead_id=body.lead_id
        )
    if known is not None:
        return known, False
    ctx = AccessContext(f"webhook.{platform}", ROLE, tenant_id, PURPOSE, None, locale)
    channel = body.channel or platform
    values: dict[str, str | None] = {
        "name": body.name,
        "phone": body.phone,
        "email": body.email,
        "city": body.city,
        "source": channel,
    }
    values = {k: v for k, v in values.items() if v}
    parsed = parse_person_row(0, values, locale)
    if isinstance(parsed, RowError):
        raise InvalidValue(parsed.column, parsed.reason, parsed.reason)
    attribution = lead_service.Attribution(
        channel,
        body.campaign,
        body.utm_source,
        body.utm_medium,
        body.utm_campaign,
        platform,
        body.lead_id,
    )
    try:
        with kernel.engine.begin() as conn:
            existing: set[str] = set()
            for field_name, value in parsed.keys.items():
                for subjects in kernel.vault.match(conn, ctx, field_name, [value]).values():
                    existing |= subjects
            if existing:
                person_id = min(existing)
            else:
                person_id = people_service.create_person(
                    conn=conn, kernel=kernel, ctx=ctx, values=values
                )
            lead_id = lead_service.create_lead(
                conn=conn,
                tenant_id=tenant_id,
                person_id=person_id,
                attribution=attribution,
                branch_id=body.branch_id,
            )
    except IntegrityError:
        # Another delivery of the same lead won the race: answer with its lead.
        with read_connection(kernel.engine) as conn:
            known = lead_service.find_by_platform(
                conn=conn, tenant_id=tenant_id, platform=platform, platform_lead_id=body.lead_id
            )
        if known is None:
            raise
        return known, False
    return lead_id, True


@router.post("/webhooks/leads/{platform}", status_code=201)
async def lead_webhook(
    request: Request,
    platform: str = Path(pattern=r"^[a-z0-9_]{1,32}$"),
    kernel: Kernel = Depends(get_kernel),
) -> JSONResponse:
    """A lead from an ad platform: 201 when new, 200 (same id) when delivered again."""
    raw = await request.body()
    if not _signature_ok(platform, raw, request.headers.get(SIGNATURE_HEADER)):
        return _unauthorised(request)
    if len(raw) > MAX_BODY:
        raise InvalidValue("body", f"at most {MAX_BODY} bytes", f"不超过 {MAX_BODY} 字节")
    try:
        body = LeadWebhookIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    if not (body.phone or body.email):
        raise InvalidValue("phone", "phone or email is required", "需要手机号或邮箱")
    locale = locale_of(request)
    lead_id, created = await run_in_threadpool(
        lambda: receive_lead(kernel=kernel, platform=platform, body=body, locale=locale)
    )
    payload: dict[str, Any] = {"id": lead_id, "created": created}
    return JSONResponse(payload, status_code=201 if created else 200)
