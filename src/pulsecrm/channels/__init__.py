"""Delivery channels: one adapter per provider behind one interface, chosen from a registry.

``send(OutboundMessage) -> ProviderResult`` is all the send pipeline knows;
an adapter raises :class:`RetryableError` (try again later: throttled,
timeout, 5xx) or :class:`PermanentError` (never retry: bad number, rejected
template). Adapters receive an address the kernel has already decrypted for
the message's purpose and never touch the database or the kernel themselves.
"""

from pulsecrm.channels.base import (
    ChannelAdapter,
    ChannelError,
    OutboundMessage,
    PermanentError,
    ProviderResult,
    RetryableError,
)
from pulsecrm.channels.registry import adapter_for, register

__all__ = [
    "ChannelAdapter",
    "ChannelError",
    "OutboundMessage",
    "PermanentError",
    "ProviderResult",
    "RetryableError",
    "adapter_for",
    "register",
]
