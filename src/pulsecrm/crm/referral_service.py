"""Referrals (转介绍): one person brought another (or a lead) to the clinic.

Only random person ids are stored. A person is referred at most once per tenant
(the first referrer counts); a self-referral and unknown people are refused with
the field named. The channel says how the referral came in, as a code
(:data:`REFERRAL_CHANNELS`); without one it is the referred lead's channel.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, insert, or_, select, update

from pulsecrm.crm.clinic_tables import lead, referral
from pulsecrm.crm.errors import Duplicate, not_found
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.crm.lead_service import get_lead, require_person
from pulsecrm.crm.scope import TENANT_ROLES, Scope, paged
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


def _where(scope: Scope) -> ColumnElement[bool]:
    """A referral is the tenant's fact about two customers; one tied to a lead is visible
    only to those who see the lead (so it does not leak another team's lead)."""
    tenant = referral.c.tenant_id == scope.tenant_id
    if scope.role in TENANT_ROLES:
        return tenant
    visible_leads = select(lead.c.id).where(scope.where(lead))
    return and_(tenant, or_(referral.c.lead_id.is_(None), referral.c.lead_id.in_(visible_leads)))


def get_referral(*, conn: Connection, scope: Scope, referral_id: str) -> dict[str, Any]:
    row = conn.execute(select(referral).where(_where(scope), referral.c.id == referral_id)).first()
    if row is None:
        raise not_found("referral_id", referral_id)
    return dict(row._mapping)


def list_referrals(
    *,
    conn: Connection,
    scope: Scope,
    referrer_id: str | None = None,
    referred_id: str | None = None,
    lead_id: str | None = None,
    channel: str | None = None,
    from_us: int | None = None,
    to_us: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of referrals in scope (newest first); created range ``[from, to)``."""
    query = select(referral).where(_where(scope))
    for column, value in (
        (referral.c.referrer_id, referrer_id),
        (referral.c.referred_id, referred_id),
        (referral.c.lead_id, lead_id),
        (referral.c.channel, channel),
    ):
        if value is not None:
            query = query.where(column == value)
    if from_us is not None:
        query = query.where(referral.c.created_us >= from_us)
    if to_us is not None:
        query = query.where(referral.c.created_us < to_us)
    return paged(conn, query, [referral.c.created_us.desc(), referral.c.id], limit, offset)


def update_referral(
    *, conn: Connection, scope: Scope, referral_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Correct how the referral came in (``channel``, a code). Who referred whom is the
    fact itself: record it again rather than rewrite it."""
    unknown = sorted(set(changes) - {"channel"})
    if unknown:
        raise InvalidValue(unknown[0], "not a field you can change", "该字段不可修改")
    get_referral(conn=conn, scope=scope, referral_id=referral_id)
    if "channel" in changes:
        channel = changes["channel"]
        if channel is not None and channel not in REFERRAL_CHANNELS:
            raise InvalidValue(
                "channel",
                f"one of {', '.join(REFERRAL_CHANNELS)}",
                f"应为 {'、'.join(REFERRAL_CHANNELS)}",
            )
        conn.execute(
            update(referral)
            .where(referral.c.tenant_id == scope.tenant_id, referral.c.id == referral_id)
            .values(channel=channel)
        )
    return get_referral(conn=conn, scope=scope, referral_id=referral_id)


def list_by_referrer(
    *, conn: Connection, scope: Scope, referrer_id: str, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """One page of the referrals a person made (newest first) and the total count."""
    return list_referrals(
        conn=conn, scope=scope, referrer_id=referrer_id, limit=limit, offset=offset
    )
