"""Signed, expiring links: the preference page and RFC 8058 one-click unsubscribe.

Stateless: a token is ``base64url(payload) "." base64url(HMAC-SHA256(secret, payload))``
where the payload is ``[1, tenant_id, person_id, expires_unix, scope]`` and the
secret is the tenant's ``preference_link`` key from the kernel key store.
Changing any byte breaks the MAC; after ``expires`` the link is refused.
``scope`` is ``"prefs"`` for the preference page, or ``"unsub:<purpose>:<channel>"``
for a one-click unsubscribe bound to one list.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from pulsecrm.consent.errors import LinkInvalid
from pulsecrm.kernel.runtime import Kernel

PREFS = "prefs"
DEFAULT_TTL_DAYS = 90


@dataclass(frozen=True)
class LinkClaims:
    tenant_id: int
    person_id: str
    expires: int
    scope: str

    @property
    def unsubscribe_target(self) -> tuple[str, str] | None:
        if not self.scope.startswith("unsub:"):
            return None
        _, purpose, channel = self.scope.split(":", 2)
        return purpose, channel


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, b"pulsecrm/link/v1|" + payload, hashlib.sha256).digest()


def make_link_token(
    kernel: Kernel,
    tenant_id: int,
    person_id: str,
    *,
    scope: str = PREFS,
    ttl_days: int = DEFAULT_TTL_DAYS,
    now: float | None = None,
) -> str:
    expires = int((now if now is not None else time.time()) + ttl_days * 86400)
    payload = json.dumps([1, tenant_id, person_id, expires, scope], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(kernel.link_secret(tenant_id), payload))}"


def unsubscribe_scope(purpose: str, channel: str) -> str:
    return f"unsub:{purpose}:{channel}"


def _invalid(en: str, zh: str) -> LinkInvalid:
    return LinkInvalid("token", en, zh)


def read_link_token(kernel: Kernel, token: str, *, now: float | None = None) -> LinkClaims:
    """The claims of a valid token; a forged, altered or expired one is refused."""
    try:
        payload_text, mac_text = token.split(".", 1)
        payload = _unb64(payload_text)
        mac = _unb64(mac_text)
        version, tenant_id, person_id, expires, scope = json.loads(payload)
        if version != 1 or not isinstance(tenant_id, int) or not isinstance(person_id, str):
            raise ValueError("bad payload")
    except (ValueError, TypeError):
        raise _invalid("malformed link", "链接格式无效") from None
    try:
        secret = kernel.link_secret(tenant_id)
    except Exception:
        raise _invalid("signature does not verify", "链接签名无效") from None
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise _invalid("signature does not verify", "链接签名无效")
    if int(expires) <= (now if now is not None else time.time()):
        raise _invalid("link has expired; request a new one", "链接已过期，请重新获取")
    return LinkClaims(tenant_id, person_id, int(expires), str(scope))


def list_unsubscribe_headers(
    kernel: Kernel,
    tenant_id: int,
    person_id: str,
    *,
    base_url: str,
    purpose: str = "marketing.email",
    campaign: str | None = None,
    mailto: str | None = None,
    ttl_days: int = 400,
) -> dict[str, str]:
    """``List-Unsubscribe`` and ``List-Unsubscribe-Post`` (RFC 8058) for one recipient.

    The link stays valid well past the CAN-SPAM 30-day minimum. ``campaign``
    is appended as a query parameter for reporting only; it is not trusted.
    """
    token = make_link_token(
        kernel, tenant_id, person_id, scope=unsubscribe_scope(purpose, "email"), ttl_days=ttl_days
    )
    url = f"{base_url.rstrip('/')}/api/v1/unsubscribe/{token}"
    if campaign:
        url += f"?campaign={campaign}"
    targets = [f"<{url}>"] + ([f"<mailto:{mailto}?subject=unsubscribe>"] if mailto else [])
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def webhook_signature(kernel: Kernel, tenant_id: int, body: bytes) -> str:
    """HMAC the SMS gateway sends with an inbound message (key derived from the link secret)."""
    key = hmac.new(
        kernel.link_secret(tenant_id), b"pulsecrm/sms-webhook/v1", hashlib.sha256
    ).digest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()
