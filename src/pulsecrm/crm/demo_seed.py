"""Seed an installation with synthetic people and one account per role (``pulsecrm demo``)."""

from __future__ import annotations

from sqlalchemy import func, select

from pulsecrm.crm.people_import import import_people
from pulsecrm.crm.synthetic import synthetic_people
from pulsecrm.crm.tables import person
from pulsecrm.kernel.accounts import create_account, find_account
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.installation import initialise
from pulsecrm.kernel.runtime import build_kernel
from pulsecrm.settings import Settings

DEMO_PASSWORD = "pulse-demo-2026"
DEMO_ACCOUNTS = {
    "consultant": "zhang.consultant",
    "marketing_manager": "li.marketing",
    "analyst": "wang.analyst",
    "privacy_officer": "zhao.privacy",
    "auditor": "chen.auditor",
    "admin": "liu.admin",
}


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
        with kernel.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(person)).scalar_one()
    finally:
        kernel.close()
    return {
        "home": report.home,
        "database": report.database,
        "people": total,
        "people created now": created,
        "logins (password " + DEMO_PASSWORD + ")": ", ".join(
            f"{u} ({r})" for r, u in DEMO_ACCOUNTS.items()
        ),
    }
