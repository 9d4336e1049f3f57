"""Real local servers standing in for providers: aiosmtpd on loopback, and one HTTP server
(uvicorn in a thread) speaking the Aliyun SMS, Tencent Cloud SMS and WeChat template APIs.

The HTTP server verifies each request's signature the way the provider documents
it — implemented here from the provider's documentation, not by calling the
adapter's signing code — refuses a bad one with the provider's error shape, and
counts deliveries per idempotency key so tests can prove "never sent twice".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote_plus

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

KEY_ID = "LTAI-test-key"
KEY_SECRET = "test-secret-0123456789"
WECHAT_APP_ID = "wx0123456789abcdef"
WECHAT_SECRET = "wechat-secret"


# -- SMTP -------------------------------------------------------------------------------
@dataclass
class SmtpSink:
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    host: str = "127.0.0.1"
    port: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def count(self, message_id: str) -> int:
        return sum(1 for _, _, m in self.messages if message_id in str(m["Message-ID"]))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    sink.port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# -- HTTP providers ------------------------------------------------------------------------
@dataclass
class Providers:
    base_url: str = ""
    deliveries: Counter[str] = field(default_factory=Counter)
    requests: list[dict[str, Any]] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    rejected: list[str] = field(default_factory=list)
    throttle: int = 0
    tokens_issued: int = 0
    wechat_seen: set[tuple[str, str]] = field(default_factory=set)
    expire_next_token: bool = False
    valid_tokens: set[str] = field(default_factory=set)


def _aliyun_encode(value: str) -> str:
    # Aliyun's documented recipe: URL-encode UTF-8, then + → %20, * → %2A, %7E → ~.
    return (
        quote_plus(value, encoding="utf-8")
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~")
    )


def aliyun_expected_signature(params: dict[str, str], secret: str) -> str:
    query = "&".join(f"{_aliyun_encode(k)}={_aliyun_encode(v)}" for k, v in sorted(params.items()))
    to_sign = "GET&" + _aliyun_encode("/") + "&" + _aliyun_encode(query)
    return base64.b64encode(
        hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()


def tencent_expected_authorization(
    headers: dict[str, str], body: bytes, secret_id: str, secret_key: str
) -> str:
    # Tencent Cloud API 3.0 signature v3, step by step as the documentation's sample.
    timestamp = int(headers["x-tc-timestamp"])
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_headers = (
        f"content-type:{headers['content-type']}\nhost:{headers['host']}\n"
        f"x-tc-action:{headers['x-tc-action'].lower()}\n"
    )
    signed_headers = "content-type;host;x-tc-action"
    canonical_request = (
        f"POST\n/\n\n{canonical_headers}\n{signed_headers}\n{hashlib.sha256(body).hexdigest()}"
    )
    scope = f"{date}/sms/tc3_request"
    string_to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n"
        f"{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    )

    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

    secret_date = sign(("TC3" + secret_key).encode("utf-8"), date)
    secret_service = sign(secret_date, "sms")
    secret_signing = sign(secret_service, "tc3_request")
    signature = hmac.new(secret_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


def provider_app(state: Providers) -> FastAPI:
    app = FastAPI()

    @app.get("/aliyun/")
    async def aliyun(request: Request) -> JSONResponse:
        params = dict(request.query_params)
        given = params.pop("Signature", "")
        request_id = uuid.uuid4().hex
        if params.get("AccessKeyId") != KEY_ID:
            return JSONResponse({"Code": "InvalidAccessKeyId.NotFound", "RequestId": request_id})
        if not hmac.compare_digest(given, aliyun_expected_signature(params, KEY_SECRET)):
            state.rejected.append("aliyun-signature")
            return JSONResponse(
                {
                    "Code": "SignatureDoesNotMatch",
                    "Message": "Specified signature is not matched",
                    "RequestId": request_id,
                },
                status_code=400,
            )
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(time.time() - stamp.timestamp()) > 900:
            return JSONResponse(
                {"Code": "InvalidTimeStamp.Expired", "RequestId": request_id}, status_code=400
            )
        if params["SignatureNonce"] in state.nonces:
            return JSONResponse(
                {"Code": "SignatureNonceUsed", "RequestId": request_id}, status_code=400
            )
        state.nonces.add(params["SignatureNonce"])
        if state.throttle > 0:
            state.throttle -= 1
            return JSONResponse(
                {
                    "Code": "isv.BUSINESS_LIMIT_CONTROL",
                    "Message": "触发分钟级流控",
                    "RequestId": request_id,
                }
            )
        if not params["PhoneNumbers"].isdigit() or len(params["PhoneNumbers"]) != 11:
            return JSONResponse(
                {
                    "Code": "isv.MOBILE_NUMBER_ILLEGAL",
                    "Message": "非法手机号",
                    "RequestId": request_id,
                }
            )
        state.requests.append({"provider": "aliyun", **params})
        state.deliveries[params["OutId"]] += 1
        return JSONResponse(
            {
                "Code": "OK",
                "Message": "OK",
                "BizId": f"biz{request_id[:12]}",
                "RequestId": request_id,
            }
        )

    @app.post("/tencent/")
    async def tencent(request: Request) -> JSONResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        request_id = str(uuid.uuid4())
        expected = tencent_expected_authorization(headers, body, KEY_ID, KEY_SECRET)
        if not hmac.compare_digest(headers.get("authorization", ""), expected):
            state.rejected.append("tencent-signature")
            return JSONResponse(
                {
                    "Response": {
                        "Error": {
                            "Code": "AuthFailure.SignatureFailure",
                            "Message": "signature mismatch",
                        },
                        "RequestId": request_id,
                    }
                }
            )
        payload = json.loads(body)
        state.requests.append({"provider": "tencent", **payload})
        key = payload["SessionContext"]
        state.deliveries[key] += 1
        status = {
            "SerialNo": f"2433:{request_id[:8]}",
            "PhoneNumber": payload["PhoneNumberSet"][0],
            "Fee": 1,
            "SessionContext": key,
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN",
        }
        return JSONResponse({"Response": {"SendStatusSet": [status], "RequestId": request_id}})

    @app.get("/wechat/cgi-bin/token")
    async def wechat_token(grant_type: str, appid: str, secret: str) -> JSONResponse:
        if appid != WECHAT_APP_ID or secret != WECHAT_SECRET or grant_type != "client_credential":
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        state.tokens_issued += 1
        token = f"ACCESS_TOKEN_{state.tokens_issued}"
        state.valid_tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 7200})

    @app.post("/wechat/cgi-bin/message/template/send")
    async def wechat_send(request: Request, access_token: str) -> JSONResponse:
        if state.expire_next_token:
            state.expire_next_token = False
            state.valid_tokens.discard(access_token)
        if access_token not in state.valid_tokens:
            return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
        payload = await request.json()
        key = (payload["touser"], payload.get("client_msg_id", ""))
        if key[1] and key in state.wechat_seen:
            # Documented: one message per (openid, client_msg_id) within the window.
            return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": 1})
        state.wechat_seen.add(key)
        state.requests.append({"provider": "wechat", **payload})
        state.deliveries[key[1]] += 1
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": 200228332})

    return app


@pytest.fixture
def providers() -> Iterator[Providers]:
    import uvicorn

    state = Providers()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        provider_app(state), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the provider server did not start")
        time.sleep(0.02)
    state.base_url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
