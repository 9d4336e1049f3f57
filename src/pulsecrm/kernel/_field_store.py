"""Row storage of catalog fields: load and upsert by subject, always tenant-scoped.

Private to the kernel: the vault decides what may be read or written; this
module only moves rows between tables and Python.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, insert, select, update

from pulsecrm.catalog.model import FieldSpec
from pulsecrm.store.base import Base
from pulsecrm.store.bulk import bulk_insert


def load_rows(
    conn: Connection, tenant_id: int, subject_ids: list[str], specs: list[FieldSpec]
) -> dict[str, dict[str, object]]:
    rows: dict[str, dict[str, object]] = {}
    by_table: dict[str, list[FieldSpec]] = {}
    for spec in specs:
        by_table.setdefault(str(spec.table), []).append(spec)
    for table_name, table_specs in by_table.items():
        table = Base.metadata.tables[table_name]
        columns = [table.c.person_id] + [table.c[str(s.column)] for s in table_specs]
        for start in range(0, len(subject_ids), 900):
            chunk = subject_ids[start : start + 900]
            result = conn.execute(
                select(*columns).where(table.c.tenant_id == tenant_id, table.c.person_id.in_(chunk))
            )
            for row in result:
                record = rows.setdefault(row[0], {})
                for spec, value in zip(table_specs, row[1:], strict=True):
                    record[spec.name] = value
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
