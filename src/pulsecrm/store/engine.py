"""Engines for the main database and the key store.

SQLite is tuned for an embedded, many-reader/one-writer workload (WAL,
foreign keys, a busy timeout instead of instant "database is locked").
PostgreSQL needs nothing special beyond psycopg 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

READ_ONLY = "pulsecrm_read_only"
"""Execution option: a transaction that only reads may share SQLite with a writer."""


def make_engine(url: str, *, synchronous: str = "NORMAL", **kwargs: Any) -> Engine:
    """Create an engine; for SQLite create the parent folder and set pragmas.

    ``synchronous=NORMAL`` in WAL mode never corrupts the database and loses
    at most the last commits on power loss; the audit writer opens its own
    connection with ``FULL`` where durability is the whole point.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _install_sqlite_pragmas(engine, synchronous)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _install_sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling issues BEGIN lazily and breaks
        # SAVEPOINT; let SQLAlchemy emit BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue on the
        # busy timeout instead of failing on a lock upgrade half-way through.
        # A read-only unit runs each SELECT in SQLite's own autocommit
        # snapshot: no BEGIN round trip and never the write lock.
        if not conn.get_execution_options().get(READ_ONLY, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def read_connection(engine: Engine) -> Connection:
    """A connection whose transactions only read: on SQLite they don't take the write lock."""
    return engine.connect().execution_options(**{READ_ONLY: True})
