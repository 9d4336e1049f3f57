"""SMS shaped like Tencent Cloud SMS (API 3.0 ``SendSms``, version 2021-01-11).

Requests are signed with TC3-HMAC-SHA256: a canonical request (method, URI,
query, the ``content-type``/``host``/``x-tc-action`` headers, SHA-256 of the
JSON body) is hashed into a string to sign whose key is derived
``"TC3" + SecretKey`` → date → service → ``tc3_request``. Our message id
travels as ``SessionContext`` and comes back in the send status.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from pulsecrm.channels.base import OutboundMessage, PermanentError, ProviderResult, RetryableError
from pulsecrm.channels.receipts import DeliveryReceipt, InboundReply
from pulsecrm.settings import Settings

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com/"
SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host;x-tc-action"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def canonical_request(host: str, action: str, payload: bytes) -> str:
    headers = f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    return "\n".join(
        ["POST", "/", "", headers, SIGNED_HEADERS, hashlib.sha256(payload).hexdigest()]
    )


def signature(secret_key: str, host: str, action: str, payload: bytes, timestamp: int) -> str:
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{SERVICE}/tc3_request"
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request(host, action, payload).encode()).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), day), SERVICE), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def authorization(secret_id: str, secret_key: str, host: str, payload: bytes, ts: int) -> str:
    day = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{day}/{SERVICE}/tc3_request, "
        f"SignedHeaders={SIGNED_HEADERS}, "
        f"Signature={signature(secret_key, host, ACTION, payload, ts)}"
    )


RETRYABLE_PREFIXES = ("RequestLimitExceeded", "InternalError", "LimitExceeded.AppCountryOrRegion")


class TencentSmsAdapter:
    provider = "tencent"
    channel = "sms"
    idempotent = False

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        self.endpoint = settings.sms_endpoint or DEFAULT_ENDPOINT
        self.host = urlsplit(self.endpoint).netloc
        self.secret_id = settings.sms_access_key_id or ""
        self.secret_key = (
            settings.sms_access_key_secret.get_secret_value()
            if settings.sms_access_key_secret
            else ""
        )
        self.app_id = settings.sms_sdk_app_id
        self.sign_name = settings.sms_sign_name
        self.template_id = settings.sms_template_code
        self.region = (
            settings.sms_region if settings.sms_region.startswith("ap-") else "ap-guangzhou"
        )
        self.rate_per_s = settings.sms_rate_per_s
        self.client = client or httpx.Client(timeout=10.0)

    def body(self, message: OutboundMessage) -> bytes:
        params = list(message.params.values()) if message.params else [message.text]
        return json.dumps(
            {
                "PhoneNumberSet": [message.to],
                "SmsSdkAppId": self.app_id,
                "SignName": self.sign_name,
                "TemplateId": self.template_id,
                "TemplateParamSet": params,
                "SessionContext": message.message_id,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    def send(self, message: OutboundMessage) -> ProviderResult:
        payload = self.body(message)
        ts = int(time.time())
        headers = {
            "Authorization": authorization(self.secret_id, self.secret_key, self.host, payload, ts),
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": ACTION,
            "X-TC-Timestamp": str(ts),
            "X-TC-Version": VERSION,
            "X-TC-Region": self.region,
        }
        try:
            response = self.client.post(self.endpoint, content=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise RetryableError("tencent_unreachable", type(exc).__name__) from None
        if response.status_code >= 500:
            raise RetryableError(f"tencent_http_{response.status_code}")
        try:
            body: dict[str, Any] = response.json()["Response"]
        except (ValueError, KeyError, TypeError):
            raise RetryableError("tencent_bad_response", response.text[:80]) from None
        if "Error" in body:
            _raise(str(body["Error"].get("Code", "")), str(body["Error"].get("Message", "")))
        status = (body.get("SendStatusSet") or [{}])[0]
        code = str(status.get("Code", ""))
        if code != "Ok":
            _raise(code, str(status.get("Message", "")))
        return ProviderResult(self.provider, str(status.get("SerialNo", "")))


def _raise(code: str, detail: str) -> None:
    if code.startswith(RETRYABLE_PREFIXES):
        raise RetryableError(code, detail[:100])
    raise PermanentError(code, detail[:100])


def _phone(item: dict[str, Any]) -> str:
    mobile = str(item.get("mobile", ""))
    nation = str(item.get("nationcode", "86"))
    return mobile if mobile.startswith("+") else f"+{nation}{mobile}"


def parse_receipts(payload: Any) -> list[DeliveryReceipt]:
    """Tencent delivery-status callback: a JSON array (``sid``, ``report_status``, ``errmsg``)."""
    items = payload if isinstance(payload, list) else [payload]
    receipts = []
    for item in items:
        if not isinstance(item, dict) or "sid" not in item:
            raise ValueError("each report needs sid and report_status")
        receipts.append(
            DeliveryReceipt(
                provider="tencent",
                provider_message_id=str(item["sid"]),
                message_id=None,
                delivered=str(item.get("report_status", "")).upper() == "SUCCESS",
                code=str(item.get("errmsg", ""))[:64],
            )
        )
    return receipts


def parse_inbound(payload: Any) -> list[InboundReply]:
    """Tencent reply callback: one object (``mobile``, ``nationcode``, ``text``, ``time``)."""
    items = payload if isinstance(payload, list) else [payload]
    replies = []
    for item in items:
        if not isinstance(item, dict) or "mobile" not in item:
            raise ValueError("each reply needs mobile and text")
        at = item.get("time")
        replies.append(
            InboundReply(
                provider="tencent",
                phone=_phone(item),
                text=str(item.get("text", "")),
                at_us=int(at) * 1_000_000 if isinstance(at, int) else None,
            )
        )
    return replies
