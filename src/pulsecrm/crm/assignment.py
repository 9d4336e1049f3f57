"""Owner assignment rules: by channel, then by branch, then a default team;
round robin within the chosen team (the team row keeps the last account assigned)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from pulsecrm.crm.clinic_tables import assignment_rule, team
from pulsecrm.crm.errors import not_found
from pulsecrm.crm.ids import new_id
from pulsecrm.crm.org_service import team_members
from pulsecrm.kernel.errors import InvalidValue

RULE_KINDS = ("channel", "branch", "default")
_ORDER = {"channel": 0, "branch": 1, "default": 2}


def add_rule(
    *,
    conn: Connection,
    tenant_id: int,
    kind: str,
    team_id: str,
    match: str | None = None,
    priority: int = 100,
) -> str:
    if kind not in RULE_KINDS:
        raise InvalidValue(
            "kind", f"one of {', '.join(RULE_KINDS)}", f"应为 {'、'.join(RULE_KINDS)}"
        )
    if (kind == "default") != (match is None):
        raise InvalidValue(
            "match", "needed for channel and branch rules only", "仅渠道和门店规则需要匹配值"
        )
    found = conn.execute(
        select(team.c.id).where(team.c.tenant_id == tenant_id, team.c.id == team_id)
    ).first()
    if found is None:
        raise not_found("team_id", team_id)
    rule_id = new_id()
    conn.execute(
        insert(assignment_rule).values(
            id=rule_id,
            tenant_id=tenant_id,
            kind=kind,
            match=match,
            team_id=team_id,
            priority=priority,
        )
    )
    return rule_id


def choose_team(
    *, conn: Connection, tenant_id: int, channel: str, branch_id: str | None
) -> str | None:
    rules = conn.execute(
        select(
            assignment_rule.c.kind,
            assignment_rule.c.match,
            assignment_rule.c.team_id,
            assignment_rule.c.priority,
        ).where(assignment_rule.c.tenant_id == tenant_id)
    ).all()
    for rule in sorted(rules, key=lambda r: (_ORDER[r.kind], r.priority)):
        if (
            rule.kind == "default"
            or (rule.kind == "channel" and rule.match == channel)
            or (rule.kind == "branch" and rule.match == branch_id)
        ):
            return str(rule.team_id)
    return None


def next_owner(*, conn: Connection, tenant_id: int, team_id: str) -> int | None:
    """Round robin: the member after the one assigned last (by account id), wrapping."""
    members = team_members(conn=conn, tenant_id=tenant_id, team_id=team_id)
    if not members:
        return None
    last = conn.execute(
        select(team.c.last_assigned).where(team.c.tenant_id == tenant_id, team.c.id == team_id)
    ).scalar()
    following = [m for m in members if last is None or m > last]
    chosen = following[0] if following else members[0]
    conn.execute(
        update(team)
        .where(team.c.tenant_id == tenant_id, team.c.id == team_id)
        .values(last_assigned=chosen)
    )
    return chosen
