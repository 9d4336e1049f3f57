"""Click tracking only with consent; no open pixels at all (C9).

A link in a message is rewritten to ``/api/v1/t/{token}`` only when the
person has consented to ``marketing.tracking`` on the message's channel at
send time; everyone else gets the original, untracked URL. The token is
signed (the tenant's link key, its own label), so the redirect endpoint can
never be used as an open redirect, and it names the message, not the person.
A click is recorded only if the consent still holds when the click arrives —
a withdrawal stops tracking of links already sent. PulseCRM never embeds an
open pixel: "did they open it" is not worth a tracker in a health inbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing.send_tables import message
from pulsecrm.marketing.sending_checks import consent_channel
from pulsecrm.marketing.sending_store import add_events

TRACKING_PURPOSE = "marketing.tracking"
_LABEL = b"pulsecrm/click/v1|"


class ClickLinkInvalid(ValueError):
    """A click token that was altered, forged or names no message."""


@dataclass(frozen=True)
class Click:
    tenant_id: int
    message_id: str
    url: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(kernel: Kernel, tenant_id: int, payload: bytes) -> bytes:
    return hmac.new(kernel.link_secret(tenant_id), _LABEL + payload, hashlib.sha256).digest()[:16]


def click_token(kernel: Kernel, tenant_id: int, message_id: str, url: str) -> str:
    payload = json.dumps([1, tenant_id, message_id, url], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(kernel, tenant_id, payload))}"


def read_click_token(kernel: Kernel, token: str) -> Click:
    try:
        payload_text, mac_text = token.split(".", 1)
        payload = _unb64(payload_text)
        version, tenant_id, message_id, url = json.loads(payload)
        if version != 1 or not isinstance(tenant_id, int):
            raise ValueError("bad payload")
        expected = _mac(kernel, tenant_id, payload)
    except Exception:
        raise ClickLinkInvalid("malformed link") from None
    if not hmac.compare_digest(_unb64(mac_text), expected):
        raise ClickLinkInvalid("signature does not verify")
    return Click(tenant_id, str(message_id), str(url))


def tracking_consented(
    conn: Connection, kernel: Kernel, *, tenant_id: int, person_ids: Sequence[str], channel: str
) -> set[str]:
    resolved = consent_channel(kernel, TRACKING_PURPOSE, channel)
    if resolved is None or not person_ids:
        return set()
    return kernel.consent.permitted(conn, tenant_id, person_ids, TRACKING_PURPOSE, resolved)


def click_url_for(
    kernel: Kernel, tenant_id: int, message_id: str, base_url: str
) -> Callable[[str], str]:
    """The link rewriter handed to ``render`` for a person who consented to tracking."""
    root = base_url.rstrip("/")
    return lambda url: f"{root}/api/v1/t/{click_token(kernel, tenant_id, message_id, url)}"


def record_click(conn: Connection, kernel: Kernel, token: str, *, now_us: int) -> tuple[str, bool]:
    """The URL to redirect to, and whether the click was recorded (consent re-checked now)."""
    click = read_click_token(kernel, token)
    row = conn.execute(
        select(message.c.person_id, message.c.channel).where(
            message.c.tenant_id == click.tenant_id, message.c.id == click.message_id
        )
    ).first()
    if row is None:
        raise ClickLinkInvalid("no such message")
    allowed = tracking_consented(
        conn, kernel, tenant_id=click.tenant_id, person_ids=[row.person_id], channel=row.channel
    )
    if row.person_id not in allowed:
        return click.url, False
    add_events(conn, click.tenant_id, [(click.message_id, "clicked", now_us, "")])
    return click.url, True
