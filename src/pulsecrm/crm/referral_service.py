"""Referrals (转介绍): one person brought another (or a lead) to the clinic.

Only random person ids are stored. A person is referred at most once per tenant
(the first referrer counts); a self-referral and unknown people are refused with
the field named. The channel says how the referral came in, as a code
(:data:`REFERRAL_CHANNELS`); without one it is the referred lead's channel.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select

from pulsecrm.crm.clinic_tables import referral
from pulsecrm.crm.errors import Duplicate
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.crm.lead_service import get_lead, require_person
from pulsecrm.crm.scope import Scope
from pulsecrm.kernel.errors import InvalidValue

MAX_PAGE = 200
# 老带新 by an existing customer, by a staff member, a shared WeChat card/poster, a
# partner organisation, anything else — codes, so nothing personal is typed in.
REFERRAL_CHANNELS = ("customer", "staff", "wechat_share", "partner", "other")


def record_referral(
    *,
    conn: Connection,
    scope: Scope,
    referrer_id: str,
    referred_id: str | None = None,
    lead_id: str | None = None,
    channel: str | None = None,
    now: int | None = None,
) -> str:
    """Record that ``referrer_id`` referred a person (given directly or by their lead)."""
    if channel is not None and channel not in REFERRAL_CHANNELS:
        raise InvalidValue(
            "channel",
            f"one of {', '.join(REFERRAL_CHANNELS)}",
            f"应为 {'、'.join(REFERRAL_CHANNELS)}",
        )
    if referred_id is None and lead_id is None:
        raise InvalidValue(
            "referred_id", "give referred_id or lead_id", "应提供 referred_id 或 lead_id"
        )
    require_person(conn=conn, tenant_id=scope.tenant_id, person_id=referrer_id, field="referrer_id")
    if lead_id is not None:
        the_lead = get_lead(conn=conn, scope=scope, lead_id=lead_id)
        lead_person = str(the_lead["person_id"])
        channel = channel or str(the_lead["channel"])[:32]
        if referred_id is not None and referred_id != lead_person:
            raise InvalidValue(
                "lead_id", "the lead belongs to another person", "该线索属于其他客户"
            )
        referred_id = lead_person
    else:
        assert referred_id is not None
        require_person(
            conn=conn, tenant_id=scope.tenant_id, person_id=referred_id, field="referred_id"
        )
    if referred_id == referrer_id:
        raise InvalidValue(
            "referred_id" if lead_id is None else "lead_id",
            "a person cannot refer themselves",
            "不能转介绍自己",
        )
    taken = conn.execute(
        select(referral.c.id).where(
            referral.c.tenant_id == scope.tenant_id, referral.c.referred_id == referred_id
        )
    ).first()
    if taken is not None:
        raise Duplicate(
            "referred_id", "this person has already been referred", "该客户已有转介绍记录"
        )
    referral_id = new_id()
    conn.execute(
        insert(referral).values(
            id=referral_id,
            tenant_id=scope.tenant_id,
            referrer_id=referrer_id,
            referred_id=referred_id,
            lead_id=lead_id,
            channel=channel,
            created_us=now or now_us(),
        )
    )
    return referral_id


def list_by_referrer(
    *, conn: Connection, scope: Scope, referrer_id: str, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """One page of the referrals a person made (newest first) and the total count."""
    query = select(referral).where(
        referral.c.tenant_id == scope.tenant_id, referral.c.referrer_id == referrer_id
    )
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(
        query.order_by(referral.c.created_us.desc(), referral.c.id)
        .limit(min(limit, MAX_PAGE))
        .offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total)
