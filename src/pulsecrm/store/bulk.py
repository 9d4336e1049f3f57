"""Fast bulk INSERT through the DB-API cursor.

SQLAlchemy's ``executemany`` spends most of its time building a parameter
dict per row; an import of a million people writes several million rows, so
the hot paths hand tuples straight to the driver (sqlite3's ``executemany``,
psycopg 3's pipelined ``executemany``) inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    if not rows:
        return
    marker = "?" if conn.dialect.name == "sqlite" else "%s"
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(marker for _ in columns)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({values})', list(rows))


def bulk_upsert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    keys: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, for current-state tables (SQLite, PostgreSQL)."""
    if not rows:
        return
    marker = "?" if conn.dialect.name == "sqlite" else "%s"
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(marker for _ in columns)
    conflict = ", ".join(f'"{k}"' for k in keys)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in keys)
    conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({names}) VALUES ({values}) '
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
        list(rows),
    )
