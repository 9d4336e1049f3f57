"""Small helpers shared by tests: acting as an account, importing synthetic people."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from pulsecrm.crm.people_import import ImportReport, import_people
from pulsecrm.crm.synthetic import synthetic_people
from pulsecrm.kernel.accounts import create_account, find_account
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.tables import audit_entry


def ctx(
    kernel: Kernel,
    role: str = "consultant",
    purpose: str = "service.appointment",
    actor: str | None = None,
    channel: str | None = None,
) -> AccessContext:
    """A context for an account of ``role`` (created on first use)."""
    tenant_id = kernel.tenant_id()
    username = actor or f"test.{role.replace('_', '-')}"
    with kernel.engine.begin() as conn:
        if find_account(conn, username) is None:
            create_account(
                conn,
                kernel.catalog,
                tenant_id=tenant_id,
                username=username,
                display_name=username,
                role=role,
                password=None,
            )
    return AccessContext(
        actor=username,
        role=role,
        tenant_id=tenant_id,
        purpose=purpose,
        channel=channel,
        locale="en",
    )


def import_synthetic(
    kernel: Kernel, count: int, seed: int = 7
) -> tuple[ImportReport, list[dict[str, str]]]:
    people = list(synthetic_people(count, seed=seed))
    rows: Iterable[tuple[int, dict[str, str | None]]] = (
        (i + 2, dict(p)) for i, p in enumerate(people)
    )
    report = import_people(kernel, ctx(kernel), iter(rows))
    return report, people


def audit_rows(kernel: Kernel, **where: object) -> list[dict[str, object]]:
    query = select(audit_entry).where(audit_entry.c.tenant_id == kernel.tenant_id())
    for key, value in where.items():
        query = query.where(audit_entry.c[key] == value)
    with kernel.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(audit_entry.c.seq))]
