"""Row-level scope by role: who sees which leads, appointments, deals and follow-ups.

* consultant — rows they own, and rows owned by (or queued for) their team;
* branch_manager, front_desk — every row of their branch;
* marketing_manager, analyst, privacy_officer — the whole tenant, but only the
  pseudonymous workflow facts (identifiers and health data stay behind the
  kernel, which checks their role on every read);
* everyone — never another tenant.

A consultant or branch role with no staff membership sees only rows they own.
Rows outside the scope are reported as *not found*, never as forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    false,
    func,
    or_,
    select,
    true,
)

from pulsecrm.crm.clinic_tables import staff_member
from pulsecrm.crm.org_service import account_id, membership, team_members
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue

TEAM_ROLES = frozenset({"consultant"})
BRANCH_ROLES = frozenset({"branch_manager", "front_desk"})
TENANT_ROLES = frozenset({"marketing_manager", "analyst", "privacy_officer"})


@dataclass(frozen=True)
class Scope:
    tenant_id: int
    role: str
    account_id: int
    branch_id: str | None = None
    team_id: str | None = None
    team_accounts: tuple[int, ...] = ()

    def where(self, table: Table, owner: str = "owner_id") -> ColumnElement[bool]:
        """The row filter for ``table`` (which has ``tenant_id`` and ``owner`` columns)."""
        tenant = table.c.tenant_id == self.tenant_id
        if self.role in TENANT_ROLES:
            return and_(tenant, true())
        if self.role in BRANCH_ROLES and self.branch_id is not None and "branch_id" in table.c:
            return and_(tenant, table.c.branch_id == self.branch_id)
        if self.role in TEAM_ROLES or self.role in BRANCH_ROLES:
            owners = {self.account_id, *self.team_accounts}
            clauses: list[Any] = [table.c[owner].in_(sorted(owners))]
            if self.team_id is not None and "team_id" in table.c:
                clauses.append(table.c.team_id == self.team_id)
            return and_(tenant, or_(*clauses))
        return and_(tenant, false())


def scope_for(*, conn: Connection, ctx: AccessContext) -> Scope:
    me = account_id(conn=conn, tenant_id=ctx.tenant_id, username=ctx.actor)
    member = membership(conn=conn, tenant_id=ctx.tenant_id, username=ctx.actor)
    if member is None:
        return Scope(ctx.tenant_id, ctx.role, me)
    team = (
        tuple(team_members(conn=conn, tenant_id=ctx.tenant_id, team_id=member.team_id))
        if member.team_id
        else ()
    )
    return Scope(ctx.tenant_id, ctx.role, me, member.branch_id, member.team_id, team)


def require_assignable(
    *, conn: Connection, scope: Scope, owner_id: int, field: str = "owner_id"
) -> None:
    """``owner_id`` must be an active staff member the caller may hand work to: themselves,
    a teammate (consultant), a colleague of their branch (branch roles), anyone of the
    tenant (tenant-wide roles)."""
    if owner_id == scope.account_id:
        return
    query = select(staff_member.c.account_id).where(
        staff_member.c.tenant_id == scope.tenant_id,
        staff_member.c.account_id == owner_id,
        staff_member.c.active.is_(True),
    )
    if scope.role in BRANCH_ROLES and scope.branch_id is not None:
        query = query.where(staff_member.c.branch_id == scope.branch_id)
    elif scope.role not in TENANT_ROLES:
        query = query.where(staff_member.c.account_id.in_(scope.team_accounts or (-1,)))
    if conn.execute(query).first() is None:
        raise InvalidValue(
            field,
            f"no active staff member {owner_id} within your scope (self, team or branch)",
            f"您的范围内（本人、团队或门店）没有在职员工 {owner_id}",
        )


def paged(
    conn: Connection, query: Select[Any], order: list[Any], limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of ``query`` (at most 200 rows) and the total count of the unpaged query."""
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(*order).limit(min(limit, 200)).offset(offset))
    return [dict(r._mapping) for r in rows], int(total)
