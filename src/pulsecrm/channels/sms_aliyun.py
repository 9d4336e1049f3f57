"""SMS shaped like Aliyun Dysms (RPC API ``SendSms``, version 2017-05-25).

Requests are signed the RPC way: the query parameters, sorted by name and
percent-encoded per RFC 3986, form ``GET&%2F&<encoded query>``, signed with
HMAC-SHA1 under ``AccessKeySecret + "&"`` (``SignatureMethod=HMAC-SHA1``,
``SignatureVersion=1.0``). ``OutId`` carries our message id, and the
delivery report echoes it as ``out_id``. Aliyun does not drop a repeated
``OutId``, so the adapter is not idempotent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from pulsecrm.channels.base import OutboundMessage, PermanentError, ProviderResult, RetryableError
from pulsecrm.channels.receipts import DeliveryReceipt, InboundReply
from pulsecrm.settings import Settings

BEIJING = ZoneInfo("Asia/Shanghai")
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
RETRYABLE = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "Throttling.User",
    "SignatureNonceUsed",
    "isp.SYSTEM_ERROR",
}


def percent_encode(value: str) -> str:
    return quote(value, safe="~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(secret: str, method: str, params: Mapping[str, str]) -> str:
    digest = hmac.new(
        (secret + "&").encode(), string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def _national(phone: str) -> str:
    return phone[3:] if phone.startswith("+86") else phone.lstrip("+")


class AliyunSmsAdapter:
    provider = "aliyun"
    channel = "sms"
    idempotent = False

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        self.endpoint = settings.sms_endpoint or DEFAULT_ENDPOINT
        self.key_id = settings.sms_access_key_id or ""
        self.secret = (
            settings.sms_access_key_secret.get_secret_value()
            if settings.sms_access_key_secret
            else ""
        )
        self.sign_name = settings.sms_sign_name
        self.template_code = settings.sms_template_code
        self.region = settings.sms_region
        self.rate_per_s = settings.sms_rate_per_s
        self.client = client or httpx.Client(timeout=10.0)

    def params(self, message: OutboundMessage) -> dict[str, str]:
        return {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.message_id,
            "PhoneNumbers": _national(message.to),
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps(
                message.params or {"content": message.text}, ensure_ascii=False
            ),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }

    def send(self, message: OutboundMessage) -> ProviderResult:
        params = self.params(message)
        params["Signature"] = sign(self.secret, "GET", params)
        try:
            response = self.client.get(self.endpoint, params=params)
        except httpx.HTTPError as exc:
            raise RetryableError("aliyun_unreachable", type(exc).__name__) from None
        if response.status_code >= 500:
            raise RetryableError(f"aliyun_http_{response.status_code}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise RetryableError("aliyun_bad_response", response.text[:80]) from None
        code = str(body.get("Code", f"http_{response.status_code}"))
        if code == "OK":
            return ProviderResult(self.provider, str(body.get("BizId", "")))
        if code in RETRYABLE:
            raise RetryableError(code, str(body.get("Message", ""))[:100])
        raise PermanentError(code, str(body.get("Message", ""))[:100])


def _time_us(text: object) -> int | None:
    """Aliyun reports Beijing time without a zone."""
    if not text:
        return None
    try:
        moment = datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return int(moment.replace(tzinfo=BEIJING).timestamp() * 1_000_000)


def parse_receipts(payload: Any) -> list[DeliveryReceipt]:
    """Aliyun ``SmsReport`` push: a JSON array of per-number delivery reports."""
    items = payload if isinstance(payload, list) else [payload]
    receipts = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("each report must be an object")
        receipts.append(
            DeliveryReceipt(
                provider="aliyun",
                provider_message_id=str(item["biz_id"]) if item.get("biz_id") else None,
                message_id=str(item["out_id"]) if item.get("out_id") else None,
                delivered=bool(item.get("success")),
                code=str(item.get("err_code", ""))[:64],
                at_us=_time_us(item.get("report_time")),
            )
        )
    return receipts


def parse_inbound(payload: Any) -> list[InboundReply]:
    """Aliyun ``SmsUp`` push: a JSON array of replies (``phone_number``, ``content``)."""
    items = payload if isinstance(payload, list) else [payload]
    replies = []
    for item in items:
        if not isinstance(item, dict) or "phone_number" not in item:
            raise ValueError("each reply needs phone_number and content")
        replies.append(
            InboundReply(
                provider="aliyun",
                phone=str(item["phone_number"]),
                text=str(item.get("content", "")),
                at_us=_time_us(item.get("send_time")),
            )
        )
    return replies
