"""WeChat Official Account template messages (WeCom's ``message/send`` has the same shape).

The access token (``/cgi-bin/token``, valid 7 200 s) is fetched once and
cached per app id until shortly before it expires; a ``40001``/``42001``
answer (token invalid or expired) refreshes it and tries once more.
``client_msg_id`` carries our message id: WeChat sends one message per
(openid, client_msg_id) within ten minutes, so this adapter is idempotent
for a retry inside that window — the send lease is kept below it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from pulsecrm.channels.base import OutboundMessage, PermanentError, ProviderResult, RetryableError
from pulsecrm.settings import Settings

DEDUPE_WINDOW_S = 600
TOKEN_INVALID = {40001, 40014, 42001}
RETRYABLE = {-1, 45009, 45047}


class WeChatTemplateAdapter:
    provider = "wechat"
    channel = "wechat"
    idempotent = True
    dedupe_window_s = DEDUPE_WINDOW_S

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        self.base = settings.wechat_api_base.rstrip("/")
        self.app_id = settings.wechat_app_id or ""
        self.secret = (
            settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else ""
        )
        self.template_id = settings.wechat_template_id
        self.rate_per_s = settings.wechat_rate_per_s
        self.client = client or httpx.Client(timeout=10.0)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def access_token(self, *, refresh: bool = False) -> str:
        with self._lock:
            if not refresh and self._token and self._token[1] > time.monotonic():
                return self._token[0]
            body = self._call(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self.secret,
                },
            )
            if "access_token" not in body:
                raise PermanentError(f"wechat_{body.get('errcode', 'token')}", "token refused")
            ttl = float(body.get("expires_in", 7200))
            self._token = (str(body["access_token"]), time.monotonic() + max(60.0, ttl - 300))
            return self._token[0]

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.client.request(method, self.base + path, **kwargs)
        except httpx.HTTPError as exc:
            raise RetryableError("wechat_unreachable", type(exc).__name__) from None
        if response.status_code >= 500:
            raise RetryableError(f"wechat_http_{response.status_code}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise RetryableError("wechat_bad_response", response.text[:80]) from None
        return body

    def payload(self, message: OutboundMessage) -> dict[str, Any]:
        data = message.params or {"first": message.subject or "", "remark": message.text}
        payload: dict[str, Any] = {
            "touser": message.to,
            "template_id": self.template_id,
            "data": {key: {"value": value} for key, value in data.items()},
            "client_msg_id": message.message_id,
        }
        if message.unsubscribe_url:
            payload["url"] = message.unsubscribe_url
        return payload

    def send(self, message: OutboundMessage) -> ProviderResult:
        payload = self.payload(message)
        for attempt in range(2):
            token = self.access_token(refresh=attempt > 0)
            body = self._call(
                "POST",
                "/cgi-bin/message/template/send",
                params={"access_token": token},
                json=payload,
            )
            code = int(body.get("errcode", 0))
            if code == 0:
                return ProviderResult(self.provider, str(body.get("msgid", "")))
            if code not in TOKEN_INVALID:
                break
        detail = str(body.get("errmsg", ""))[:100]
        if code in RETRYABLE or code in TOKEN_INVALID:
            raise RetryableError(f"wechat_{code}", detail)
        raise PermanentError(f"wechat_{code}", detail)
