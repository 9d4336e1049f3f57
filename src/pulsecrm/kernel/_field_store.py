"""Row storage of catalog fields: load and upsert by subject, always tenant-scoped.

Private to the kernel: the vault decides what may be read or written; this
module only moves rows between tables and Python.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, delete, insert, select, update

from pulsecrm.catalog.loader import Catalog
from pulsecrm.catalog.model import FieldSpec
from pulsecrm.store.base import Base
from pulsecrm.store.bulk import bulk_insert


@lru_cache(maxsize=256)
def _select_for(plan: tuple[tuple[str, tuple[str, ...]], ...]) -> Select[Any]:
    """One statement per read plan, built once; several tables are joined on the person.

    ``plan`` is ``((table, (column, ...)), ...)``; the first table drives the
    join and the rest are outer-joined, so a person missing a profile row is
    still returned.
    """
    tables = [Base.metadata.tables[name] for name, _ in plan]
    base = tables[0]
    source: Any = base
    for other in tables[1:]:
        source = source.outerjoin(
            other, (other.c.person_id == base.c.person_id) & (other.c.tenant_id == base.c.tenant_id)
        )
    columns = [t.c[c] for t, (_, cols) in zip(tables, plan, strict=True) for c in cols]
    return (
        select(base.c.person_id, *columns)
        .select_from(source)
        .where(
            base.c.tenant_id == bindparam("tenant"),
            base.c.person_id.in_(bindparam("ids", expanding=True)),
        )
    )


def load_rows(
    conn: Connection, tenant_id: int, subject_ids: list[str], specs: list[FieldSpec]
) -> dict[str, dict[str, object]]:
    """Stored values (ciphertext for encrypted fields) of ``specs`` for each subject found."""
    by_table: dict[str, list[FieldSpec]] = {}
    for spec in specs:
        by_table.setdefault(str(spec.table), []).append(spec)
    plan = tuple((name, tuple(str(s.column) for s in group)) for name, group in by_table.items())
    names = [spec.name for group in by_table.values() for spec in group]
    statement = _select_for(plan)
    rows: dict[str, dict[str, object]] = {}
    for start in range(0, len(subject_ids), 900):
        chunk = subject_ids[start : start + 900]
        for row in conn.execute(statement, {"tenant": tenant_id, "ids": chunk}):
            rows[row[0]] = dict(zip(names, row[1:], strict=True))
    return rows


def store_rows(
    conn: Connection,
    table: Table,
    tenant_id: int,
    by_subject: dict[str, dict[str, object]],
    new: set[str],
) -> None:
    inserts = [
        {"person_id": s, "tenant_id": tenant_id, **cols}
        for s, cols in by_subject.items()
        if s in new
    ]
    if inserts:
        columns = {c for row in inserts for c in row}
        ordered = sorted(columns)
        bulk_insert(conn, table, ordered, [tuple(row.get(c) for c in ordered) for row in inserts])
    for subject_id, cols in by_subject.items():
        if subject_id in new:
            continue
        found = conn.execute(
            update(table)
            .where(table.c.tenant_id == tenant_id, table.c.person_id == subject_id)
            .values(**cols)
        ).rowcount
        if not found:
            conn.execute(insert(table).values(person_id=subject_id, tenant_id=tenant_id, **cols))


def is_per_person(table_name: str | None) -> bool:
    """True for one-row-per-person tables (identity, profile) that ``read`` can serve.

    Per-record values (consultation notes, consent evidence) belong to a
    record, not to the person row, and are opened through the record vault.
    """
    table = Base.metadata.tables.get(table_name or "")
    return table is not None and [c.name for c in table.primary_key.columns] == ["person_id"]


def erase_personal_values(
    conn: Connection, catalog: Catalog, tenant_id: int, subject_ids: list[str]
) -> None:
    """Remove every catalog-declared value of these subjects from every table.

    Per-person tables (primary key ``person_id``: identity, profile) lose the
    row; per-record tables (consultations, evidence) keep their rows, which
    workflow counts refer to, with the personal columns set to NULL.
    """
    columns_by_table: dict[str, list[str]] = {}
    for spec in catalog.fields.values():
        if spec.table and spec.column:
            columns_by_table.setdefault(spec.table, []).append(spec.column)
    for table_name, columns in columns_by_table.items():
        table = Base.metadata.tables.get(table_name)
        if table is None:
            continue
        scope = (table.c.tenant_id == tenant_id) & table.c.person_id.in_(subject_ids)
        if is_per_person(table_name):
            conn.execute(delete(table).where(scope))
        else:
            conn.execute(update(table).where(scope).values({c: None for c in columns}))
