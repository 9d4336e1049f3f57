"""CRM fixtures: a kernel wired with the consent hook and a small clinic (two branches,
two consultant teams, a branch manager, a doctor, a front desk, a marketing manager)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pulsecrm.crm import org_service
from pulsecrm.crm.scope import Scope, scope_for
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection
from tests.helpers import ctx


@pytest.fixture
def app(installed: object) -> Iterator[Kernel]:
    from pulsecrm.wiring import build_app_kernel

    k = build_app_kernel(installed)  # type: ignore[arg-type]
    yield k
    k.close()


@dataclass
class Clinic:
    kernel: Kernel
    tenant_id: int
    north: str
    south: str
    team_a: str
    team_b: str
    staff: dict[str, AccessContext]
    ids: dict[str, int]

    def scope(self, who: str) -> Scope:
        with read_connection(self.kernel.engine) as conn:
            return scope_for(conn=conn, ctx=self.staff[who])


STAFF = {
    # username: (role, branch, team, kind)
    "amy.consultant": ("consultant", "north", "team_a", "consultant"),
    "ben.consultant": ("consultant", "north", "team_a", "consultant"),
    "cai.consultant": ("consultant", "north", "team_b", "consultant"),
    "dan.consultant": ("consultant", "south", None, "consultant"),
    "mia.manager": ("branch_manager", "north", None, "manager"),
    "doc.wang": ("consultant", "north", None, "doctor"),
    "fay.desk": ("front_desk", "north", None, "front_desk"),
}


@pytest.fixture
def clinic(app: Kernel) -> Clinic:
    tenant_id = app.tenant_id()
    staff: dict[str, AccessContext] = {}
    ids: dict[str, int] = {}
    with app.engine.begin() as conn:
        north = org_service.create_branch(conn=conn, tenant_id=tenant_id, code="N", name="北院")
        south = org_service.create_branch(conn=conn, tenant_id=tenant_id, code="S", name="南院")
        team_a = org_service.create_team(conn=conn, tenant_id=tenant_id, branch_id=north, name="A")
        team_b = org_service.create_team(conn=conn, tenant_id=tenant_id, branch_id=north, name="B")
    places = {"north": north, "south": south, "team_a": team_a, "team_b": team_b, None: None}
    for username, (role, branch_key, team_key, kind) in STAFF.items():
        staff[username] = ctx(app, role, actor=username)
        with app.engine.begin() as conn:
            ids[username] = org_service.add_staff(
                conn=conn,
                tenant_id=tenant_id,
                username=username,
                branch_id=str(places[branch_key]),
                team_id=places[team_key],
                kind=kind,
            )
    staff["li.marketing"] = ctx(app, "marketing_manager", "marketing.sms", actor="li.marketing")
    return Clinic(app, tenant_id, north, south, team_a, team_b, staff, ids)
