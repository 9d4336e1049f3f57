"""Public endpoints (no staff login): capture, preferences, SMS replies, one-click unsubscribe, GPC.

The person acts for themselves, proven by a signed link (``consent.tokens``)
or, for SMS replies, by the gateway's signature and the sending number.
Withdrawal takes one request (B9): no confirmation page, no login. A request
carrying ``Sec-GPC: 1`` records an opt-out of sale/sharing (C10).
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from pulsecrm.api.consent_routes import CHANNEL_PATTERN, HASH_PATTERN, PURPOSE_PATTERN
from pulsecrm.api.deps import client_ip, get_kernel, intake_context
from pulsecrm.consent import service
from pulsecrm.consent.errors import LinkInvalid, NoticeNotFound
from pulsecrm.consent.keywords import is_unsubscribe
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.notices import current_notice, find_notice
from pulsecrm.consent.tokens import PREFS, LinkClaims, read_link_token, webhook_signature
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import inbound
from pulsecrm.store.engine import read_connection

GPC_LAST_UPDATE = date(2026, 11, 29)


def gpc_signal(request: Request) -> None:
    """``Sec-GPC: 1`` → an opt-out of sale/sharing, tied to the person if a link names them."""
    if request.headers.get("sec-gpc", "").strip() != "1":
        return
    kernel = get_kernel(request)
    token = request.path_params.get("token")
    person_id: str | None = None
    tenant_id = kernel.tenant_id()
    if token:
        try:
            claims = read_link_token(kernel, token)
            person_id, tenant_id = claims.person_id, claims.tenant_id
        except LinkInvalid:
            person_id = None
    ctx = intake_context(request, tenant_id, f"subject:{person_id}" if person_id else "public:gpc")
    with kernel.engine.begin() as conn:
        service.record_gpc(conn, kernel, ctx, person_id=person_id, route=request.url.path)


router = APIRouter(tags=["consent (public)"], dependencies=[Depends(gpc_signal)])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters are not allowed")
        return value


class PublicDecision(_In):
    purpose: str = Field(pattern=PURPOSE_PATTERN)
    channel: str | None = Field(default=None, pattern=CHANNEL_PATTERN)
    granted: StrictBool  # explicit true or false: no default, nothing implied (B2)


class GuardianIn(_In):
    name: str = Field(min_length=1, max_length=100)
    relationship: str = Field(min_length=1, max_length=50)


class PublicCaptureIn(_In):
    token: str = Field(min_length=10, max_length=400)
    notice_hash: str = Field(pattern=HASH_PATTERN)
    decisions: list[PublicDecision] = Field(min_length=1, max_length=20)
    form_id: str | None = Field(default=None, max_length=100)
    method: str = Field(default="web_form", max_length=32)
    guardian: GuardianIn | None = None


class WithdrawIn(_In):
    purpose: str = Field(pattern=PURPOSE_PATTERN)
    channel: str | None = Field(default=None, pattern=CHANNEL_PATTERN)


class InboundSms(_In):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sender: str = Field(alias="from", min_length=3, max_length=32)
    text: str = Field(max_length=1000)
    received_at: str | None = Field(default=None, max_length=40)


def _claims(kernel: Kernel, token: str, scope: str | None = PREFS) -> LinkClaims:
    claims = read_link_token(kernel, token)
    if scope is not None and claims.scope != scope:
        raise LinkInvalid("token", "this link is for another action", "此链接不适用于该操作")
    return claims


def _events(rows: list[Any]) -> list[dict[str, str]]:
    return [
        {"event_id": r.id, "kind": r.kind.value, "purpose": r.purpose, "channel": r.channel}
        for r in rows
    ]


@router.get("/.well-known/gpc.json")
def gpc_json() -> dict[str, Any]:
    """Global Privacy Control support statement."""
    return {"gpc": True, "lastUpdate": GPC_LAST_UPDATE.isoformat()}


@router.get("/api/v1/notices/current/{locale}")
def current(locale: str, request: Request) -> dict[str, Any]:
    """The current published notice of a locale (public, savable)."""
    kernel = get_kernel(request)
    with read_connection(kernel.engine) as conn, conn.begin():
        notice = current_notice(conn, kernel.tenant_id(), locale)
    if notice is None:
        raise NoticeNotFound("locale", "no notice published for this locale", "该语言尚未发布告知")
    return {
        "version_hash": notice.version_hash,
        "locale": notice.locale,
        "label": notice.label,
        "notice": notice.document.model_dump(mode="json"),
    }


@router.get("/api/v1/notices/{version_hash}")
def notice_by_hash(version_hash: str, request: Request) -> dict[str, Any]:
    """A published notice version by its hash, with its exact text."""
    kernel = get_kernel(request)
    with read_connection(kernel.engine) as conn, conn.begin():
        notice = find_notice(conn, kernel.tenant_id(), version_hash)
    return {
        "version_hash": notice.version_hash,
        "locale": notice.locale,
        "label": notice.label,
        "current": notice.current,
        "text": notice.text,
    }


@router.post("/api/v1/public/consents", status_code=201)
def public_capture(body: PublicCaptureIn, request: Request) -> dict[str, Any]:
    """The person's own decisions, each explicit; a separate-consent purpose alone (B4)."""
    kernel = get_kernel(request)
    claims = _claims(kernel, body.token)
    ctx = intake_context(request, claims.tenant_id, f"subject:{claims.person_id}")
    sub = service.Submission(
        person_id=claims.person_id,
        decisions=[
            service.Decision(d.purpose, d.channel, Kind.GRANT if d.granted else Kind.REFUSE)
            for d in body.decisions
        ],
        method=body.method,
        notice_hash=body.notice_hash,
        actor_type="guardian" if body.guardian else "self",
        origin="subject",
        evidence=service.Evidence(
            form_id=body.form_id,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        ),
        guardian=service.Guardian(body.guardian.name, body.guardian.relationship)
        if body.guardian
        else None,
    )
    with kernel.engine.begin() as conn:
        rows = service.record(conn, kernel, ctx, [sub])
    return {"events": _events(rows)}


@router.get("/api/v1/preferences/{token}")
def preferences(token: str, request: Request) -> dict[str, Any]:
    """Everything the person has decided, each with a one-click withdraw, and open requests."""
    kernel = get_kernel(request)
    claims = _claims(kernel, token)
    locale = (
        "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh-CN"
    )
    with read_connection(kernel.engine) as conn, conn.begin():
        status = service.status(conn, kernel, claims.tenant_id, claims.person_id)
        prompts = service.open_prompts(conn, kernel, claims.tenant_id, claims.person_id, locale)
    for item in status["consents"]:
        spec = kernel.catalog.purposes[item["purpose"]]
        item["name"] = spec.name.get(locale)
        if item["status"] == "granted":
            item["withdraw"] = {
                "method": "POST",
                "path": f"/api/v1/preferences/{token}/withdraw",
                "body": {"purpose": item["purpose"], "channel": item["channel"]},
            }
    status.pop("person_id", None)
    return {**status, "prompts": prompts, "expires": claims.expires}


@router.post("/api/v1/preferences/{token}/withdraw")
def withdraw_one(token: str, body: WithdrawIn, request: Request) -> dict[str, Any]:
    """One click: withdraw one purpose on one channel, effective immediately."""
    kernel = get_kernel(request)
    claims = _claims(kernel, token)
    ctx = intake_context(request, claims.tenant_id, f"subject:{claims.person_id}")
    channel = body.channel or None
    with kernel.engine.begin() as conn:
        rows = service.record(
            conn,
            kernel,
            ctx,
            [
                service.Submission(
                    person_id=claims.person_id,
                    decisions=[service.Decision(body.purpose, channel, Kind.WITHDRAW)],
                    method="preference_page",
                    origin="subject",
                    evidence=service.Evidence(
                        ip=client_ip(request), user_agent=request.headers.get("user-agent")
                    ),
                )
            ],
        )
    return {"events": _events(rows)}


@router.post("/api/v1/preferences/{token}/withdraw-all")
def withdraw_all(token: str, request: Request) -> dict[str, Any]:
    """One click: withdraw every consent currently given."""
    kernel = get_kernel(request)
    claims = _claims(kernel, token)
    ctx = intake_context(request, claims.tenant_id, f"subject:{claims.person_id}")
    with kernel.engine.begin() as conn:
        rows = service.withdraw(
            conn,
            kernel,
            ctx,
            person_id=claims.person_id,
            method="preference_page",
            evidence=service.Evidence(
                ip=client_ip(request), user_agent=request.headers.get("user-agent")
            ),
        )
    return {"events": _events(rows)}


@router.post("/api/v1/unsubscribe/{token}")
async def one_click_unsubscribe(token: str, request: Request) -> Response:
    """RFC 8058 one-click: ``List-Unsubscribe=One-Click`` in the body withdraws, no page."""
    kernel = get_kernel(request)
    claims = read_link_token(kernel, token)
    target = claims.unsubscribe_target
    if target is None:
        raise LinkInvalid("token", "not an unsubscribe link", "不是退订链接")
    body = (await request.body()).decode("utf-8", "replace")
    if "List-Unsubscribe=One-Click" not in body:
        raise LinkInvalid(
            "body",
            "expected List-Unsubscribe=One-Click (RFC 8058)",
            "请求体应为 List-Unsubscribe=One-Click（RFC 8058）",
            rule="one_click_body",
        )
    purpose, channel = target
    ctx = intake_context(request, claims.tenant_id, f"subject:{claims.person_id}")

    message_id = request.query_params.get("m")

    def work() -> None:
        with kernel.engine.begin() as conn:
            service.withdraw(
                conn,
                kernel,
                ctx,
                person_id=claims.person_id,
                purpose=purpose,
                channel=channel,
                method="email_link",
                default_purpose=purpose,
            )
            # Issue 5: the channel is suppressed in the same transaction (C1).
            inbound.stop_channel(
                conn,
                tenant_id=claims.tenant_id,
                person_id=claims.person_id,
                channel=channel,
                reason="unsubscribe",
                source="unsubscribe_link",
                now_us=now_us(),
                message_id=message_id,
            )

    await run_in_threadpool(work)
    return Response(status_code=200)


@router.post("/api/v1/webhooks/sms/inbound")
async def inbound_sms(request: Request) -> dict[str, Any]:
    """An SMS reply from the gateway; 退订 / TD / STOP… withdraws every SMS consent at once."""
    kernel = get_kernel(request)
    raw = await request.body()
    tenant_id = kernel.tenant_id()
    given = request.headers.get("x-pulsecrm-signature", "")
    if not hmac.compare_digest(given, webhook_signature(kernel, tenant_id, raw)):
        raise LinkInvalid(
            "x-pulsecrm-signature",
            "gateway signature does not verify",
            "短信网关签名无效",
            rule="webhook_signature",
        )
    try:
        message = InboundSms.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from None
    if not is_unsubscribe(message.text):
        return {"unsubscribe": False, "events": 0}
    ctx = intake_context(request, tenant_id, "public:sms-reply")

    def work() -> int:
        with kernel.engine.begin() as conn:
            people = service.people_by_contact(conn, kernel, ctx, "phone", message.sender)
            count = 0
            for person_id in people:
                count += len(
                    service.withdraw(
                        conn,
                        kernel,
                        ctx,
                        person_id=person_id,
                        channel="sms",
                        method="sms_reply",
                        evidence=service.Evidence(ref=f"sms:{message.received_at or ''}"[:200]),
                        default_purpose="marketing.sms",
                    )
                )
                # Issue 5: the SMS channel is suppressed at once as well (C1, C2).
                inbound.stop_channel(
                    conn,
                    tenant_id=tenant_id,
                    person_id=person_id,
                    channel="sms",
                    reason="td_reply",
                    source="sms_reply",
                    now_us=now_us(),
                )
            return count

    return {"unsubscribe": True, "events": await run_in_threadpool(work)}
