"""People for the CRM screens: create one (validated like an import row), and list the
people in the caller's scope with masked identifiers only."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, func, insert, select

from pulsecrm.crm.clinic_tables import lead
from pulsecrm.crm.errors import not_found
from pulsecrm.crm.person_rows import COLUMNS, RowError, parse_person_row
from pulsecrm.crm.scope import TENANT_ROLES, Scope
from pulsecrm.crm.tables import person
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import AccessDenied, InvalidValue
from pulsecrm.kernel.runtime import Kernel

LIST_FIELDS = ("name", "phone", "gender", "birth_year", "city", "source_channel")
# What a workflow list shows beside a person id: enough to recognise whom you are calling.
ROW_FIELDS = ("name", "phone")


def create_person(
    *, conn: Connection, kernel: Kernel, ctx: AccessContext, values: dict[str, str | None]
) -> str:
    """A new person from form or API values; a bad value raises naming its field and rule."""
    for key in values:
        if key not in COLUMNS:
            raise InvalidValue(
                key,
                f"unknown field; expected {', '.join(COLUMNS)}",
                f"未知字段；应为 {'、'.join(COLUMNS)}",
            )
    parsed = parse_person_row(0, values, ctx.locale)
    if isinstance(parsed, RowError):
        raise InvalidValue(parsed.column, parsed.reason, parsed.reason)
    existing = set()
    for field, value in parsed.keys.items():
        for subjects in kernel.vault.match(conn, ctx, field, [value]).values():
            existing |= subjects
    if existing:
        raise InvalidValue(
            next(iter(parsed.keys)), "a person with this value exists", "已存在相同信息的人员"
        )
    person_id = uuid.uuid4().hex
    now = now_us()
    conn.execute(
        insert(person).values(id=person_id, tenant_id=ctx.tenant_id, created_us=now, updated_us=now)
    )
    kernel.vault.write(
        conn, ctx, {person_id: {**parsed.identity, **parsed.profile}}, new_subjects=[person_id]
    )
    return person_id


def people_in_scope(
    *, conn: Connection, scope: Scope, limit: int = 50, offset: int = 0
) -> tuple[list[str], int]:
    """Ids of people with a lead in the caller's scope (newest lead first)."""
    query = (
        select(lead.c.person_id, func.max(lead.c.created_us).label("latest"))
        .where(scope.where(lead))
        .group_by(lead.c.person_id)
    )
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    ids = [
        str(r.person_id)
        for r in conn.execute(
            query.order_by(func.max(lead.c.created_us).desc()).limit(min(limit, 200)).offset(offset)
        )
    ]
    return ids, int(total)


def require_in_scope(*, conn: Connection, scope: Scope, person_id: str) -> None:
    """A person is in scope with a lead in scope (tenant-wide roles: any person of the
    tenant); otherwise *not found*."""
    if scope.role in TENANT_ROLES:
        query = select(person.c.id).where(
            person.c.tenant_id == scope.tenant_id, person.c.id == person_id
        )
    else:
        query = select(lead.c.id).where(scope.where(lead), lead.c.person_id == person_id)
    if conn.execute(query.limit(1)).first() is None:
        raise not_found("person_id", person_id)


def masked_people(
    *, kernel: Kernel, ctx: AccessContext, person_ids: list[str]
) -> list[dict[str, Any]]:
    """Masked identifiers and profile through the vault (audited); never revealed in a list."""
    if not person_ids:
        return []
    views = kernel.vault.read(ctx, person_ids, list(LIST_FIELDS), reveal=False)
    return [{"id": v.subject_id, **{f: v.values.get(f) for f in LIST_FIELDS}} for v in views]


def with_masked_people(
    *,
    kernel: Kernel,
    ctx: AccessContext,
    rows: list[dict[str, Any]],
    keys: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Add masked identifiers beside each person id of ``rows`` (``{"person_id": "person"}``
    by default: ``row["person"] = {"name": "王*", "phone": "138****5678"}``).

    One audited ``vault.read`` per page, never revealed. Call it outside a write
    transaction (the audit entry is committed by the kernel's writer). A role with no grant
    for these fields gets ``None`` (the refusal is audited by the kernel).
    """
    keys = keys or {"person_id": "person"}
    ids = sorted({str(r[k]) for r in rows for k in keys if r.get(k)})
    masked: dict[str, dict[str, Any]] = {}
    if ids:
        try:
            views = kernel.vault.read(ctx, ids, list(ROW_FIELDS), reveal=False)
        except AccessDenied:
            views = []
        masked = {v.subject_id: {f: v.values.get(f) for f in ROW_FIELDS} for v in views}
    for row in rows:
        for key, out in keys.items():
            row[out] = masked.get(str(row[key])) if row.get(key) else None
    return rows
