"""Leads: channel and campaign attribution on the pseudonymous person, owner assignment,
first-response time, and scoped lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pulsecrm.crm.assignment import choose_team, next_owner
from pulsecrm.crm.clinic_tables import lead, staff_member
from pulsecrm.crm.errors import Duplicate, InvalidTransition, not_found
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.crm.org_service import require_branch
from pulsecrm.crm.scope import Scope
from pulsecrm.crm.tables import person
from pulsecrm.kernel.errors import InvalidValue

LEAD_STATUSES = ("new", "contacted", "converted", "lost")
# Manual moves. ``converted`` is set by recording a deal (``deal_service``), never by hand;
# a lost lead can be reopened.
LEAD_TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"contacted", "lost"}),
    "contacted": frozenset({"lost"}),
    "lost": frozenset({"new"}),
    "converted": frozenset(),
}
MAX_PAGE = 200


@dataclass(frozen=True)
class Attribution:
    channel: str
    campaign: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    platform: str | None = None
    platform_lead_id: str | None = None


def require_person(
    *, conn: Connection, tenant_id: int, person_id: str, field: str = "person_id"
) -> None:
    found = conn.execute(
        select(person.c.id).where(person.c.tenant_id == tenant_id, person.c.id == person_id)
    ).first()
    if found is None:
        raise not_found(field, person_id)


def require_lead_of(*, conn: Connection, tenant_id: int, lead_id: str, person_id: str) -> None:
    """``lead_id`` must be a lead of this tenant for ``person_id``. Not scoped on purpose: the
    on-site consultant or front desk who books or closes often works another team's lead."""
    found = conn.execute(
        select(lead.c.person_id).where(lead.c.tenant_id == tenant_id, lead.c.id == lead_id)
    ).scalar()
    if found is None:
        raise not_found("lead_id", lead_id)
    if found != person_id:
        raise InvalidValue("lead_id", "the lead belongs to another person", "该线索属于其他客户")


def find_by_platform(
    *, conn: Connection, tenant_id: int, platform: str, platform_lead_id: str
) -> str | None:
    found = conn.execute(
        select(lead.c.id).where(
            lead.c.tenant_id == tenant_id,
            lead.c.platform == platform,
            lead.c.platform_lead_id == platform_lead_id,
        )
    ).scalar()
    return None if found is None else str(found)


def create_lead(
    *,
    conn: Connection,
    tenant_id: int,
    person_id: str,
    attribution: Attribution,
    branch_id: str | None = None,
    owner_id: int | None = None,
    created_us: int | None = None,
) -> str:
    """Create a lead; without an owner the assignment rules choose team and owner."""
    if not attribution.channel or len(attribution.channel) > 64:
        raise InvalidValue("channel", "required, at most 64 characters", "必填，不超过64个字符")
    require_person(conn=conn, tenant_id=tenant_id, person_id=person_id)
    if branch_id is not None:
        require_branch(conn=conn, tenant_id=tenant_id, branch_id=branch_id)
    if (
        attribution.platform
        and attribution.platform_lead_id
        and find_by_platform(
            conn=conn,
            tenant_id=tenant_id,
            platform=attribution.platform,
            platform_lead_id=attribution.platform_lead_id,
        )
    ):
        raise Duplicate("platform_lead_id", "lead already received", "该线索已接收")
    team_id: str | None = None
    if owner_id is None:
        team_id = choose_team(
            conn=conn, tenant_id=tenant_id, channel=attribution.channel, branch_id=branch_id
        )
        if team_id is not None:
            owner_id = next_owner(conn=conn, tenant_id=tenant_id, team_id=team_id)
    else:
        team_id = conn.execute(
            select(staff_member.c.team_id).where(
                staff_member.c.tenant_id == tenant_id, staff_member.c.account_id == owner_id
            )
        ).scalar()
    lead_id = new_id()
    conn.execute(
        insert(lead).values(
            id=lead_id,
            tenant_id=tenant_id,
            person_id=person_id,
            branch_id=branch_id,
            team_id=team_id,
            owner_id=owner_id,
            status="new",
            created_us=created_us or now_us(),
            first_response_us=None,
            **attribution.__dict__,
        )
    )
    return lead_id


def get_lead(*, conn: Connection, scope: Scope, lead_id: str) -> dict[str, Any]:
    row = conn.execute(select(lead).where(scope.where(lead), lead.c.id == lead_id)).first()
    if row is None:
        raise not_found("lead_id", lead_id)
    return dict(row._mapping)


def respond(*, conn: Connection, scope: Scope, lead_id: str, at_us: int | None = None) -> None:
    """First contact with the lead: stamps the first-response time once."""
    current = get_lead(conn=conn, scope=scope, lead_id=lead_id)
    if current["first_response_us"] is None:
        conn.execute(
            update(lead)
            .where(lead.c.id == lead_id)
            .values(first_response_us=at_us or now_us(), status="contacted")
        )


def set_status(*, conn: Connection, scope: Scope, lead_id: str, status: str) -> None:
    if status not in LEAD_STATUSES:
        raise InvalidValue(
            "status", f"one of {', '.join(LEAD_STATUSES)}", f"应为 {'、'.join(LEAD_STATUSES)}"
        )
    get_lead(conn=conn, scope=scope, lead_id=lead_id)
    conn.execute(update(lead).where(lead.c.id == lead_id).values(status=status))


def list_leads(
    *,
    conn: Connection,
    scope: Scope,
    channel: str | None = None,
    campaign: str | None = None,
    status: str | None = None,
    branch_id: str | None = None,
    owner_id: int | None = None,
    person_id: str | None = None,
    created_from_us: int | None = None,
    created_to_us: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of leads in scope (newest first) and the total count; the created range is
    half-open ``[from, to)``."""
    query = select(lead).where(scope.where(lead))
    for column, value in (
        (lead.c.channel, channel),
        (lead.c.campaign, campaign),
        (lead.c.status, status),
        (lead.c.branch_id, branch_id),
        (lead.c.owner_id, owner_id),
        (lead.c.person_id, person_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if created_from_us is not None:
        query = query.where(lead.c.created_us >= created_from_us)
    if created_to_us is not None:
        query = query.where(lead.c.created_us < created_to_us)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(
        query.order_by(lead.c.created_us.desc(), lead.c.id)
        .limit(min(limit, MAX_PAGE))
        .offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total)


def update_lead(
    *,
    conn: Connection,
    scope: Scope,
    lead_id: str,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """Change a lead's ``campaign`` and/or reassign its ``owner_id`` (a staff member of the
    tenant; the lead's team follows the new owner). Returns the updated lead."""
    unknown = sorted(set(changes) - {"campaign", "owner_id"})
    if unknown:
        raise InvalidValue(unknown[0], "not a field you can change", "该字段不可修改")
    get_lead(conn=conn, scope=scope, lead_id=lead_id)  # in scope, else not found
    values: dict[str, Any] = {}
    if "campaign" in changes:
        campaign = changes["campaign"]
        if campaign is not None and (not isinstance(campaign, str) or len(campaign) > 100):
            raise InvalidValue("campaign", "at most 100 characters", "不超过100个字符")
        values["campaign"] = campaign or None
    if "owner_id" in changes:
        owner_id = changes["owner_id"]
        member = (
            conn.execute(
                select(staff_member.c.account_id, staff_member.c.team_id).where(
                    staff_member.c.tenant_id == scope.tenant_id,
                    staff_member.c.account_id == owner_id,
                    staff_member.c.active.is_(True),
                )
            ).first()
            if isinstance(owner_id, int) and not isinstance(owner_id, bool)
            else None
        )
        if member is None:
            raise InvalidValue(
                "owner_id",
                f"no active staff member {owner_id!r} in this tenant",
                f"本机构没有在职员工 {owner_id!r}",
            )
        values["owner_id"] = owner_id
        values["team_id"] = member.team_id
    if values:
        conn.execute(
            update(lead)
            .where(lead.c.tenant_id == scope.tenant_id, lead.c.id == lead_id)
            .values(**values)
        )
    # Read back by tenant: after a reassignment the lead may have left the caller's scope.
    row = conn.execute(
        select(lead).where(lead.c.tenant_id == scope.tenant_id, lead.c.id == lead_id)
    ).one()
    return dict(row._mapping)


def transition_lead(
    *, conn: Connection, scope: Scope, lead_id: str, to: str, now: int | None = None
) -> dict[str, Any]:
    """Move a lead along :data:`LEAD_TRANSITIONS`; anything else is a 409 naming ``status``.

    ``new → contacted`` also stamps the first-response time (as ``respond`` does)."""
    if to not in LEAD_STATUSES:
        raise InvalidValue(
            "status", f"one of {', '.join(LEAD_STATUSES)}", f"应为 {'、'.join(LEAD_STATUSES)}"
        )
    current = get_lead(conn=conn, scope=scope, lead_id=lead_id)
    old = str(current["status"])
    if to not in LEAD_TRANSITIONS.get(old, frozenset()):
        hint_en = " (a lead is converted by recording a deal)" if to == "converted" else ""
        hint_zh = "（线索在记录成交时自动转化）" if to == "converted" else ""
        raise InvalidTransition(
            "status", f"cannot go from {old} to {to}{hint_en}", f"不能从 {old} 变为 {to}{hint_zh}"
        )
    values: dict[str, Any] = {"status": to}
    if to == "contacted" and current["first_response_us"] is None:
        values["first_response_us"] = now or now_us()
    moved = conn.execute(
        update(lead)
        .where(lead.c.tenant_id == scope.tenant_id, lead.c.id == lead_id, lead.c.status == old)
        .values(**values)
    )
    if moved.rowcount != 1:
        raise InvalidTransition("status", "the lead changed meanwhile", "该线索已被他人修改")
    return get_lead(conn=conn, scope=scope, lead_id=lead_id)
