"""The Alembic migrations build exactly the schema the table modules declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pulsecrm.store.models import metadata


def test_migrated_database_matches_the_declared_tables(kernel) -> None:  # type: ignore[no-untyped-def]
    with kernel.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
