"""Browser-facing defences: security headers on every response, and CSRF for forms.

Headers: a strict CSP (no inline script or style anywhere, nothing external),
no framing, no referrer (signed links never leak through ``Referer``),
``nosniff``, a closed ``Permissions-Policy``, and HSTS when the request came over
TLS — directly, or through a proxy we were told to trust
(``PULSECRM_BEHIND_TLS=true`` and ``X-Forwarded-Proto: https``).

CSRF: a signed double-submit token. ``csrf_token(request)`` is
``nonce "." HMAC(key, binding | nonce)`` where the binding is the staff session
id when there is a session (``request.state.session_id``, set by the staff
auth layer) and otherwise a random ``pulse_csrf`` cookie that this middleware
issues on first contact. ``require_csrf`` accepts a POST only when the
``csrf_token`` form field (or ``X-CSRF-Token`` header, for htmx) verifies for
the current binding, so a page on another site can neither read nor forge one.
The key is derived from the tenant's link secret in the kernel key store, so
tokens survive restarts and work across server processes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)
HSTS = "max-age=31536000; includeSubDomains"
CSRF_COOKIE = "pulse_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_NEW_SEED = "csrf_new_seed"

SessionResolver = Callable[[Request], "str | None"]


class CsrfRejected(Exception):
    """A state-changing form arrived without a valid token (rendered as a 403 page)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def behind_tls_from_env() -> bool:
    return os.environ.get("PULSECRM_BEHIND_TLS", "").strip().lower() in {"1", "true", "yes"}


def _is_tls(scope: Scope, trust_proxy: bool) -> bool:
    if scope.get("scheme") == "https":
        return True
    if not trust_proxy:
        return False
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-proto":
            return bool(value.split(b",")[0].strip().lower() == b"https")
    return False


def request_is_tls(request: Request) -> bool:
    """Did this request reach us over TLS (directly or via the trusted proxy)?"""
    return _is_tls(request.scope, bool(getattr(request.app.state, "behind_tls", False)))


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task overhead) adding the headers and CSRF cookie."""

    def __init__(self, app: ASGIApp, *, behind_tls: bool = False) -> None:
        self.app = app
        self.behind_tls = behind_tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = _is_tls(scope, self.behind_tls)
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if tls:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                headers += [(k, v) for k, v in extra if k not in present]
                seed = state.get(_NEW_SEED)
                if seed:
                    headers.append((b"set-cookie", _cookie(CSRF_COOKIE, seed, tls).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie(name: str, value: str, secure: bool, *, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _key(request: Request) -> bytes:
    """The CSRF key, derived once per app from the tenant's link secret."""
    key: bytes | None = getattr(request.app.state, "csrf_key", None)
    if key is None:
        kernel = request.app.state.kernel
        secret = kernel.link_secret(kernel.tenant_id())
        key = hmac.new(secret, b"pulsecrm/csrf/v1", hashlib.sha256).digest()
        request.app.state.csrf_key = key
    return key


def _binding(request: Request, *, issue: bool) -> str | None:
    resolver: SessionResolver | None = getattr(request.app.state, "session_resolver", None)
    session_id = getattr(request.state, "session_id", None) or (
        resolver(request) if resolver else None
    )
    if session_id:
        return f"s:{session_id}"
    seed = getattr(request.state, _NEW_SEED, None) or request.cookies.get(CSRF_COOKIE)
    if not seed and issue:
        seed = secrets.token_urlsafe(24)
        setattr(request.state, _NEW_SEED, seed)
    return f"c:{seed}" if seed else None


def _sign(key: bytes, binding: str, nonce: str) -> str:
    return _b64(hmac.new(key, f"{binding}|{nonce}".encode(), hashlib.sha256).digest())


def csrf_token(request: Request) -> str:
    """A token for the forms on this page, bound to the session or the CSRF cookie."""
    cached: str | None = getattr(request.state, "csrf_token", None)
    if cached:
        return cached
    binding = _binding(request, issue=True)
    assert binding is not None
    nonce = secrets.token_urlsafe(12)
    token = f"{nonce}.{_sign(_key(request), binding, nonce)}"
    request.state.csrf_token = token
    return token


def verify_csrf(request: Request, token: str | None) -> None:
    binding = _binding(request, issue=False)
    if not token or binding is None or "." not in token:
        raise CsrfRejected("missing")
    nonce, mac = token.split(".", 1)
    if not hmac.compare_digest(mac, _sign(_key(request), binding, nonce)):
        raise CsrfRejected("mismatch")


async def require_csrf(request: Request) -> None:
    """FastAPI dependency for every state-changing form POST."""
    token = request.headers.get(CSRF_HEADER)
    if not token:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    verify_csrf(request, token)
