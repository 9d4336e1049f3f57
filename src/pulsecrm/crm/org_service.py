"""Branches, teams and staff membership (a staff member is a kernel ``user_account``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from pulsecrm.crm.clinic_tables import branch, staff_member, team
from pulsecrm.crm.errors import Duplicate, UnknownBranch, not_found
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.tables import user_account

STAFF_KINDS = ("consultant", "doctor", "front_desk", "manager")


@dataclass(frozen=True)
class Membership:
    account_id: int
    branch_id: str
    team_id: str | None
    kind: str


def create_branch(*, conn: Connection, tenant_id: int, code: str, name: str) -> str:
    taken = conn.execute(
        select(branch.c.id).where(branch.c.tenant_id == tenant_id, branch.c.code == code)
    ).first()
    if taken:
        raise Duplicate("code", "a branch with this code exists", "该门店编码已存在")
    branch_id = new_id()
    conn.execute(
        insert(branch).values(
            id=branch_id, tenant_id=tenant_id, code=code, name=name, created_us=now_us()
        )
    )
    return branch_id


def require_branch(*, conn: Connection, tenant_id: int, branch_id: str) -> None:
    found = conn.execute(
        select(branch.c.id).where(branch.c.tenant_id == tenant_id, branch.c.id == branch_id)
    ).first()
    if found is None:
        raise UnknownBranch(
            "branch_id", f"unknown branch {branch_id!r}", f"门店 {branch_id!r} 不存在"
        )


def list_branches(*, conn: Connection, tenant_id: int) -> list[dict[str, object]]:
    rows = conn.execute(
        select(branch.c.id, branch.c.code, branch.c.name)
        .where(branch.c.tenant_id == tenant_id)
        .order_by(branch.c.code)
    )
    return [dict(r._mapping) for r in rows]


def create_team(*, conn: Connection, tenant_id: int, branch_id: str, name: str) -> str:
    require_branch(conn=conn, tenant_id=tenant_id, branch_id=branch_id)
    team_id = new_id()
    conn.execute(
        insert(team).values(id=team_id, tenant_id=tenant_id, branch_id=branch_id, name=name)
    )
    return team_id


def account_id(*, conn: Connection, tenant_id: int, username: str) -> int:
    found = conn.execute(
        select(user_account.c.id).where(
            user_account.c.tenant_id == tenant_id, user_account.c.username == username
        )
    ).scalar()
    if found is None:
        raise not_found("username", username)
    return int(found)


def add_staff(
    *,
    conn: Connection,
    tenant_id: int,
    username: str,
    branch_id: str,
    kind: str,
    team_id: str | None = None,
) -> int:
    if kind not in STAFF_KINDS:
        raise InvalidValue(
            "kind", f"one of {', '.join(STAFF_KINDS)}", f"应为 {'、'.join(STAFF_KINDS)}"
        )
    require_branch(conn=conn, tenant_id=tenant_id, branch_id=branch_id)
    if team_id is not None:
        found = conn.execute(
            select(team.c.branch_id).where(team.c.tenant_id == tenant_id, team.c.id == team_id)
        ).scalar()
        if found is None:
            raise not_found("team_id", team_id)
        if found != branch_id:
            raise InvalidValue("team_id", "team belongs to another branch", "团队属于其他门店")
    account = account_id(conn=conn, tenant_id=tenant_id, username=username)
    conn.execute(
        insert(staff_member).values(
            account_id=account,
            tenant_id=tenant_id,
            branch_id=branch_id,
            team_id=team_id,
            kind=kind,
            active=True,
        )
    )
    return account


def membership(*, conn: Connection, tenant_id: int, username: str) -> Membership | None:
    row = conn.execute(
        select(
            staff_member.c.account_id,
            staff_member.c.branch_id,
            staff_member.c.team_id,
            staff_member.c.kind,
        )
        .join(user_account, user_account.c.id == staff_member.c.account_id)
        .where(
            staff_member.c.tenant_id == tenant_id,
            user_account.c.username == username,
            staff_member.c.active,
        )
    ).first()
    if row is None:
        return None
    return Membership(int(row.account_id), row.branch_id, row.team_id, row.kind)


def team_members(*, conn: Connection, tenant_id: int, team_id: str) -> list[int]:
    return [
        int(a)
        for a in conn.execute(
            select(staff_member.c.account_id)
            .where(
                staff_member.c.tenant_id == tenant_id,
                staff_member.c.team_id == team_id,
                staff_member.c.active,
            )
            .order_by(staff_member.c.account_id)
        ).scalars()
    ]
