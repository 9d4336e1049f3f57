"""Alembic environment: always online, on the engine the caller passed in."""

from alembic import context

from pulsecrm.store.models import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
