"""rights (issue 6): data-subject request intake with legal clocks.

``dsr_request`` (the queue and its clock), ``dsr_requester`` (what the requester
typed, sealed by the kernel) and ``dsr_request_event`` (append-only history:
UPDATE, DELETE and TRUNCATE refused).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:20:00
"""

import sqlalchemy as sa
from alembic import op

from pulsecrm.store.append_only import create_statements, drop_statements

LEDGERS = ("dsr_request_event",)

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dsr_request",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("request_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.Column("due_us", sa.BigInteger(), nullable=False),
        sa.Column("extended_due_us", sa.BigInteger(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extended_us", sa.BigInteger(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verified_us", sa.BigInteger(), nullable=True),
        sa.Column("verified_by", sa.String(length=100), nullable=True),
        sa.Column("closed_us", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_dsr_request_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_request")),
    )
    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dsr_request_queue", ["tenant_id", "status", "due_us"], unique=False
        )
        batch_op.create_index("ux_dsr_request_reference", ["tenant_id", "reference"], unique=True)
        batch_op.create_index("ix_dsr_request_person", ["tenant_id", "person_id"], unique=False)
    op.create_table(
        "dsr_requester",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.LargeBinary(), nullable=True),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("email", sa.LargeBinary(), nullable=True),
        sa.Column("details", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_dsr_requester")),
        info={"personal_data": True},
    )
    op.create_table(
        "dsr_request_event",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_request_event")),
    )
    with op.batch_alter_table("dsr_request_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dsr_request_event_request",
            ["tenant_id", "request_id", "at_us"],
            unique=False,
        )
    dialect = op.get_bind().dialect.name
    for table in LEDGERS:
        for statement in create_statements(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in LEDGERS:
        for statement in drop_statements(dialect, table):
            op.execute(statement)
    with op.batch_alter_table("dsr_request_event", schema=None) as batch_op:
        batch_op.drop_index("ix_dsr_request_event_request")
    op.drop_table("dsr_request_event")
    op.drop_table("dsr_requester")
    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.drop_index("ix_dsr_request_person")
        batch_op.drop_index("ux_dsr_request_reference")
        batch_op.drop_index("ix_dsr_request_queue")
    op.drop_table("dsr_request")
