"""Build small marketing test populations through the real services.

People come from ``people_service.create_person`` (vault-encrypted identity,
pseudonymous profile), consent from the consent service, workflow facts
(leads, visits, deals, appointments) as rows with past timestamps — the CRM
services refuse to book in the past, and segments only read these facts.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import insert

from pulsecrm.consent.ledger import Kind
from pulsecrm.crm import clinic_tables as ct
from pulsecrm.crm import people_service
from pulsecrm.crm.ids import DAY_US, new_id, now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import segments
from tests.consent.conftest import decide, publish
from tests.crm.conftest import Clinic
from tests.helpers import ctx

_phones = itertools.count(13_900_000_000)


def person(kernel: Kernel, **values: str | None) -> str:
    """A person (create_person: identity in the vault, profile plain)."""
    who = ctx(kernel)
    fields: dict[str, str | None] = {"name": "测试", "phone": str(next(_phones))}
    fields.update(values)
    with kernel.engine.begin() as conn:
        return people_service.create_person(conn=conn, kernel=kernel, ctx=who, values=fields)


def grant(kernel: Kernel, notice: str, who: str, *pairs: tuple[str, str]) -> None:
    for purpose, channel in pairs:
        decide(kernel, who, notice, (purpose, channel, Kind.GRANT))


def withdraw(kernel: Kernel, notice: str, who: str, purpose: str, channel: str) -> None:
    decide(kernel, who, notice, (purpose, channel, Kind.WITHDRAW))


def event(clinic: Clinic, table: str, who: str, days_ago: float, **extra: Any) -> None:
    """A past workflow fact: ``lead``, ``visit``, ``deal`` or ``appointment``."""
    at = now_us() - int(days_ago * DAY_US)
    base: dict[str, Any] = {"id": new_id(), "tenant_id": clinic.tenant_id, "person_id": who}
    if table == "lead":
        row = {**base, "channel": "douyin", "status": "new", "created_us": at, **extra}
        target = ct.lead
    elif table == "visit":
        row = {**base, "branch_id": clinic.north, "arrived_us": at, **extra}
        target = ct.visit
    elif table == "deal":
        row = {
            **base,
            "branch_id": clinic.north,
            "items": "implant",
            "amount_cents": 100_000,
            "is_first": True,
            "closed_us": at,
            **extra,
        }
        target = ct.deal
    elif table == "appointment":
        row = {
            **base,
            "branch_id": clinic.north,
            "item": "cleaning",
            "slot_us": at,
            "status": "booked",
            "created_us": at,
            "updated_us": at,
            **extra,
        }
        target = ct.appointment
    else:
        raise ValueError(table)
    with clinic.kernel.engine.begin() as conn:
        conn.execute(insert(target), [row])


def members(kernel: Kernel, definition: object, purpose: str = "marketing.sms") -> set[str]:
    """Who the segment matches now (compiled query, no sample)."""
    tenant = kernel.tenant_id()
    with kernel.engine.connect() as conn:
        compiled = segments.compiled(conn, kernel.catalog, tenant, definition, purpose)
        return set(conn.execute(compiled.query()).scalars())


__all__ = ["event", "grant", "members", "person", "publish", "withdraw"]


SMS_BODY = "{sender}春季洁牙季，欢迎预约。回复TD退订"


def campaign_for(
    clinic: Clinic,
    definition: object,
    *,
    purpose: str = "marketing.sms",
    channel: str = "sms",
    templates: dict[str, dict[str, Any]] | None = None,
    **extra: Any,
) -> str:
    """A saved segment and a draft campaign over it, by the marketing manager."""
    from pulsecrm.marketing.campaigns import CampaignSpec, create_campaign

    k = clinic.kernel
    who = clinic.staff["li.marketing"]
    with k.engine.begin() as conn:
        seg = segments.create_segment(
            conn, k, who, name="seg", definition=definition, purpose=purpose
        )
        spec = CampaignSpec.model_validate(
            {
                "name": "春季活动",
                "purpose": purpose,
                "channel": channel,
                "segment_id": seg.id,
                "sender_name": "示例口腔",
                "templates": templates or {"zh-CN": {"body": SMS_BODY}},
                **extra,
            }
        )
        return create_campaign(conn, k, who, spec).id
