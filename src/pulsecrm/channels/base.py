"""The adapter interface and the values that cross it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutboundMessage:
    """One rendered message to one address.

    ``message_id`` is the idempotency key: adapters pass it to the provider
    (SMTP ``Message-ID``, Aliyun ``OutId``, Tencent ``SessionContext``,
    WeChat ``client_msg_id``) so receipts and retries can be matched to it.
    """

    message_id: str
    tenant_id: int
    channel: str
    to: str
    text: str
    subject: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    unsubscribe_url: str | None = None
    sender_name: str | None = None
    # Template variables for providers that send templates (SMS, WeChat).
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderResult:
    provider: str
    provider_message_id: str
    # True when delivery is already known (the local outbox); others report it later.
    delivered: bool = False


class ChannelError(Exception):
    """A send that did not go through; ``code`` is the provider's, safe to store."""

    retryable = False

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class RetryableError(ChannelError):
    """Throttled, timed out, or a provider-side fault: the same message may be tried again."""

    retryable = True


class PermanentError(ChannelError):
    """The provider refused this message for good (bad address, rejected content)."""


class ChannelAdapter(Protocol):
    """A provider adapter. ``idempotent`` is True only when the provider itself drops a
    second request carrying the same ``message_id`` — only then may a crashed send be
    retried (see ``marketing/sending.py``)."""

    @property
    def provider(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def idempotent(self) -> bool: ...
    @property
    def rate_per_s(self) -> float: ...

    def send(self, message: OutboundMessage) -> ProviderResult: ...
