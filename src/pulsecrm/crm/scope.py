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

from sqlalchemy import ColumnElement, Connection, Table, and_, false, or_, true

from pulsecrm.crm.org_service import account_id, membership, team_members
from pulsecrm.kernel.context import AccessContext

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
