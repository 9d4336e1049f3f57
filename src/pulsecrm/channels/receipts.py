"""What provider webhooks report, in one shape whatever the provider."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryReceipt:
    """A delivery report. ``message_id`` is our id when the provider echoes it back
    (Aliyun ``out_id``); otherwise the receipt is matched on ``provider_message_id``."""

    provider: str
    provider_message_id: str | None
    message_id: str | None
    delivered: bool
    code: str
    at_us: int | None = None


@dataclass(frozen=True)
class InboundReply:
    """A reply from a handset: the sender's number (E.164) and the text."""

    provider: str
    phone: str
    text: str
    at_us: int | None = None
