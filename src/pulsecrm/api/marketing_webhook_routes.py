"""Provider callbacks and the links inside messages (no staff login).

* ``POST /api/v1/webhooks/sms/{provider}/receipts`` — delivery reports
  (Aliyun ``SmsReport``, Tencent status callback) → ``delivered``/``failed``;
* ``POST /api/v1/webhooks/sms/{provider}/inbound`` — replies (Aliyun
  ``SmsUp``, Tencent reply callback); "TD", "退订", "STOP"… withdraw consent
  and suppress the channel at once (C2, B9);
* ``GET /api/v1/unsubscribe/{token}`` — the unsubscribe page: one button that
  makes the RFC 8058 one-click POST (handled in ``public_routes``);
* ``GET /api/v1/t/{token}`` — a tracked link: redirect, recording the click
  only if the person still consents to tracking (C9).

Neither provider signs its callbacks, so they must carry the shared secret
``PULSECRM_SMS_WEBHOOK_SECRET`` (header ``X-PulseCRM-Webhook-Token`` or query
``token``); a callback without it is refused (401) and changes nothing.
"""

from __future__ import annotations

import hmac
import html
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from pulsecrm.api.deps import get_kernel, intake_context
from pulsecrm.api.errors import locale_of
from pulsecrm.channels import sms_aliyun, sms_tencent
from pulsecrm.channels.receipts import DeliveryReceipt, InboundReply
from pulsecrm.consent.errors import LinkInvalid
from pulsecrm.consent.tokens import read_link_token
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import inbound, tracking
from pulsecrm.marketing.errors import not_found

router = APIRouter(tags=["marketing (webhooks)"])

RECEIPTS: dict[str, Callable[[Any], list[DeliveryReceipt]]] = {
    "aliyun": sms_aliyun.parse_receipts,
    "tencent": sms_tencent.parse_receipts,
}
REPLIES: dict[str, Callable[[Any], list[InboundReply]]] = {
    "aliyun": sms_aliyun.parse_inbound,
    "tencent": sms_tencent.parse_inbound,
}
# What each provider expects back, or it retries the push.
ACK: dict[str, dict[str, Any]] = {
    "aliyun": {"code": 0, "msg": "成功"},
    "tencent": {"result": 0, "errmsg": "OK"},
}


def _verify(kernel: Kernel, request: Request) -> None:
    secret = kernel.settings.sms_webhook_secret
    given = request.headers.get("x-pulsecrm-webhook-token") or request.query_params.get("token")
    if (
        secret is None
        or not given
        or not hmac.compare_digest(given.encode(), secret.get_secret_value().encode())
    ):
        raise inbound.WebhookRefused(
            "x-pulsecrm-webhook-token",
            "the callback's shared secret is missing or wrong",
            "回调共享密钥缺失或错误",
        )


async def _payload(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise inbound.WebhookRefused(
            "body", "must be JSON", "应为 JSON", rule="invalid_json"
        ) from None


def _parse(
    parsers: dict[str, Callable[[Any], list[Any]]], provider: str, payload: Any
) -> list[Any]:
    parser = parsers.get(provider)
    if parser is None:
        raise not_found("provider", provider)
    try:
        return parser(payload)
    except (ValueError, KeyError, TypeError) as exc:
        raise inbound.WebhookRefused(
            "body",
            f"not a {provider} callback: {exc}",
            f"不是 {provider} 的回调：{exc}",
            rule="invalid_callback",
        ) from None


@router.post("/api/v1/webhooks/sms/{provider}/receipts")
async def sms_receipts(provider: str, request: Request) -> dict[str, Any]:
    kernel = get_kernel(request)
    _verify(kernel, request)
    receipts = _parse(RECEIPTS, provider, await _payload(request))
    tenant_id = kernel.tenant_id()

    def work() -> inbound.ReceiptReport:
        with kernel.engine.begin() as conn:
            return inbound.record_receipts(
                conn, tenant_id=tenant_id, receipts=receipts, now_us=now_us()
            )

    report = await run_in_threadpool(work)
    return {**ACK[provider], "matched": report.matched, "unmatched": report.unmatched}


@router.post("/api/v1/webhooks/sms/{provider}/inbound")
async def sms_replies(provider: str, request: Request) -> dict[str, Any]:
    kernel = get_kernel(request)
    _verify(kernel, request)
    replies = _parse(REPLIES, provider, await _payload(request))
    tenant_id = kernel.tenant_id()
    ctx = intake_context(request, tenant_id, f"public:sms-reply:{provider}")

    def work() -> dict[str, int]:
        totals = {"unsubscribe": 0, "people": 0, "withdrawals": 0}
        with kernel.engine.begin() as conn:
            for reply in replies:
                outcome = inbound.handle_reply(conn, kernel, ctx, reply=reply, now_us=now_us())
                totals["unsubscribe"] += int(outcome.unsubscribe)
                totals["people"] += outcome.people
                totals["withdrawals"] += outcome.withdrawals
        return totals

    return {**ACK[provider], **(await run_in_threadpool(work))}


_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title></head>
<body><main>
<h1>{title}</h1>
<p>{text}</p>
<form method="post" action="{action}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">{button}</button>
</form>
</main></body></html>
"""


@router.get("/api/v1/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str, request: Request) -> HTMLResponse:
    """One button, no login, no questions: the same single step as the one-click POST.

    A GET never unsubscribes by itself — mail scanners prefetch links — but
    the page asks for nothing more than one click.
    """
    kernel = get_kernel(request)
    claims = read_link_token(kernel, token)
    if claims.unsubscribe_target is None:
        raise LinkInvalid("token", "not an unsubscribe link", "不是退订链接")
    en = locale_of(request) == "en"
    action = html.escape(
        str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    )
    page = _PAGE.format(
        lang="en" if en else "zh-CN",
        title="Unsubscribe" if en else "退订",
        text="Stop these messages with one click." if en else "点击一次即可退订此类消息。",
        button="Unsubscribe" if en else "退订",
        action=action,
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.get("/api/v1/t/{token}")
def tracked_link(token: str, request: Request) -> RedirectResponse:
    kernel = get_kernel(request)
    try:
        with kernel.engine.begin() as conn:
            url, _recorded = tracking.record_click(conn, kernel, token, now_us=now_us())
    except tracking.ClickLinkInvalid:
        raise not_found("token", token[:16]) from None
    return RedirectResponse(url, status_code=302, headers={"Referrer-Policy": "no-referrer"})
