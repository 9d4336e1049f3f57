"""marketing sending (issue 5): the message ledger and its append-only events.

``message`` is the idempotency record of the send pipeline (unique per
tenant, campaign, person, channel); ``message_event`` (delivery receipts,
unsubscribes, clicks, replies) is append-only: UPDATE, DELETE and TRUNCATE
refused by triggers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:20:00
"""

import sqlalchemy as sa
from alembic import op

from pulsecrm.store.append_only import create_statements, drop_statements

LEDGERS = ("message_event",)

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=True),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=16), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("queued_us", sa.BigInteger(), nullable=False),
        sa.Column("claimed_us", sa.BigInteger(), nullable=True),
        sa.Column("sent_us", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_message_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_message_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint(
            "tenant_id", "campaign_id", "person_id", "channel", name="uq_message_tenant_campaign"
        ),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_frequency", ["tenant_id", "person_id", "channel", "sent_us"], unique=False
        )
        batch_op.create_index(
            "ix_message_campaign_status", ["tenant_id", "campaign_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_message_provider_id", ["provider", "provider_message_id"], unique=False
        )

    op.create_table(
        "message_event",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_message_event_message_id_message")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_message_event_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_event")),
    )
    with op.batch_alter_table("message_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_event_message", ["tenant_id", "message_id", "kind"], unique=False
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
    with op.batch_alter_table("message_event", schema=None) as batch_op:
        batch_op.drop_index("ix_message_event_message")
    op.drop_table("message_event")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_provider_id")
        batch_op.drop_index("ix_message_campaign_status")
        batch_op.drop_index("ix_message_frequency")
    op.drop_table("message")
