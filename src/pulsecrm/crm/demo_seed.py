"""Seed an installation with synthetic people and one account per role (``pulsecrm demo``)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from pulsecrm.crm import org_service
from pulsecrm.crm.clinic_tables import branch, lead
from pulsecrm.crm.ids import DAY_US, now_us
from pulsecrm.crm.people_import import import_people
from pulsecrm.crm.synthetic import synthetic_people
from pulsecrm.crm.synthetic_clinic import generate_activity
from pulsecrm.crm.tables import person
from pulsecrm.kernel.accounts import create_account, find_account
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.installation import initialise
from pulsecrm.kernel.runtime import Kernel, build_kernel
from pulsecrm.settings import Settings

DEMO_PASSWORD = "pulse-demo-2026"
DEMO_ACCOUNTS = {
    "consultant": "zhang.consultant",
    "marketing_manager": "li.marketing",
    "analyst": "wang.analyst",
    "privacy_officer": "zhao.privacy",
    "auditor": "chen.auditor",
    "admin": "liu.admin",
    "branch_manager": "sun.manager",
    "front_desk": "zhou.frontdesk",
}
DEMO_CONSULTANTS = ("qian.consultant", "wu.consultant", "zheng.consultant", "feng.consultant")


def _seed_clinic(conn: Connection, kernel: Kernel, tenant_id: int) -> None:
    """Two branches, two consultant teams, staff memberships — once."""
    if conn.execute(select(branch.c.id).where(branch.c.tenant_id == tenant_id)).first():
        return
    north = org_service.create_branch(conn=conn, tenant_id=tenant_id, code="XH", name="徐汇院区")
    south = org_service.create_branch(conn=conn, tenant_id=tenant_id, code="PD", name="浦东院区")
    team_a = org_service.create_team(
        conn=conn, tenant_id=tenant_id, branch_id=north, name="网电一组"
    )
    team_b = org_service.create_team(
        conn=conn, tenant_id=tenant_id, branch_id=south, name="网电二组"
    )
    for i, username in enumerate(DEMO_CONSULTANTS):
        if find_account(conn, username) is None:
            create_account(
                conn,
                kernel.catalog,
                tenant_id=tenant_id,
                username=username,
                display_name=username,
                role="consultant",
                password=DEMO_PASSWORD,
            )
        org_service.add_staff(
            conn=conn,
            tenant_id=tenant_id,
            username=username,
            branch_id=north if i < 2 else south,
            kind="consultant",
            team_id=team_a if i < 2 else team_b,
        )
    org_service.add_staff(
        conn=conn,
        tenant_id=tenant_id,
        username="zhang.consultant",
        branch_id=north,
        kind="consultant",
        team_id=team_a,
    )
    org_service.add_staff(
        conn=conn, tenant_id=tenant_id, username="sun.manager", branch_id=north, kind="manager"
    )
    org_service.add_staff(
        conn=conn,
        tenant_id=tenant_id,
        username="zhou.frontdesk",
        branch_id=north,
        kind="front_desk",
    )


def _seed_activity(kernel: Kernel, tenant_id: int) -> int:
    """A year of leads and what followed for every person without a lead yet."""
    with kernel.engine.begin() as conn:
        branches = [
            str(b)
            for b in conn.execute(
                select(branch.c.id).where(branch.c.tenant_id == tenant_id)
            ).scalars()
        ]
        owners = [
            org_service.account_id(conn=conn, tenant_id=tenant_id, username=u)
            for u in (*DEMO_CONSULTANTS, "zhang.consultant")
        ]
        without = [
            str(p)
            for p in conn.execute(
                select(person.c.id).where(
                    person.c.tenant_id == tenant_id,
                    ~person.c.id.in_(select(lead.c.person_id).where(lead.c.tenant_id == tenant_id)),
                )
            ).scalars()
        ]
        now = now_us()
        return generate_activity(
            conn,
            tenant_id=tenant_id,
            person_ids=without,
            branches=branches,
            owners=owners,
            start_us=now - 365 * DAY_US,
            now_us=now,
        ).leads


def seed_demo(settings: Settings, *, people: int) -> dict[str, object]:
    report = initialise(settings)
    kernel = build_kernel(settings)
    try:
        with kernel.engine.begin() as conn:
            for role, username in DEMO_ACCOUNTS.items():
                if find_account(conn, username) is None:
                    create_account(
                        conn,
                        kernel.catalog,
                        tenant_id=report.tenant_id,
                        username=username,
                        display_name=username,
                        role=role,
                        password=DEMO_PASSWORD,
                    )
            _seed_clinic(conn, kernel, report.tenant_id)
            existing = conn.execute(select(func.count()).select_from(person)).scalar_one()
        created = 0
        if existing < people:
            ctx = AccessContext(
                actor=report.operator,
                role="consultant",
                tenant_id=report.tenant_id,
                purpose="service.appointment",
            )
            rows = ((i + 2, dict(r)) for i, r in enumerate(synthetic_people(people)))
            created = import_people(kernel, ctx, iter(rows), mode="skip").created  # type: ignore[arg-type]
        leads = _seed_activity(kernel, report.tenant_id)
        with kernel.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(person)).scalar_one()
    finally:
        kernel.close()
    return {
        "home": report.home,
        "database": report.database,
        "people": total,
        "people created now": created,
        "leads with a year of activity created now": leads,
        "logins (password " + DEMO_PASSWORD + ")": ", ".join(
            f"{u} ({r})" for r, u in DEMO_ACCOUNTS.items()
        ),
    }
