"""The access context every kernel call carries: who, in what role, where, why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AccessContext:
    """``(actor, role, tenant, purpose)`` — the four facts a read must name.

    ``channel`` narrows a consent check (``marketing.sms`` over ``sms``);
    ``locale`` picks the language of error messages.
    """

    actor: str
    role: str
    tenant_id: int
    purpose: str
    channel: str | None = None
    locale: str = "zh-CN"
