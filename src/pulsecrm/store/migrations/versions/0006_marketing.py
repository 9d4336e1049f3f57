"""marketing (issue 5): segments, campaigns, templates, audiences, suppression.

Also indexes ``visit`` by person and arrival, which segment filters such as
"no visit for 180 days" need, and ``consent_state`` by person covering what the
audience build reads (both declared in ``marketing/tables.py``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PERSONAL = {"personal_data": True}


def upgrade() -> None:
    op.create_table(
        "segment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_segment_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment")),
    )
    op.create_index("ix_segment_tenant", "segment", ["tenant_id", "created_us"], unique=False)

    op.create_table(
        "campaign",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("segment_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_us", sa.BigInteger(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("quiet_start_min", sa.Integer(), nullable=False),
        sa.Column("quiet_end_min", sa.Integer(), nullable=False),
        sa.Column("frequency_cap", sa.Integer(), nullable=False),
        sa.Column("frequency_window_days", sa.Integer(), nullable=False),
        sa.Column("send_rate_per_s", sa.Integer(), nullable=False),
        sa.Column("sender_name", sa.String(length=100), nullable=False),
        sa.Column("hipaa_class", sa.String(length=16), nullable=True),
        sa.Column("medical_ad", sa.Boolean(), nullable=False),
        sa.Column("sponsor_paid", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segment.id"], name=op.f("fk_campaign_segment_id_segment")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_campaign_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    op.create_index(
        "ix_campaign_tenant_status",
        "campaign",
        ["tenant_id", "status", "scheduled_us"],
        unique=False,
    )

    op.create_table(
        "campaign_template",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("review_cert_id", sa.String(length=64), nullable=True),
        sa.Column("review_cert_expires", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_template_campaign_id_campaign"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "locale", name="pk_campaign_template"),
    )

    op.create_table(
        "campaign_audience",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "person_id", name="pk_campaign_audience"),
        info=PERSONAL,
    )

    op.create_table(
        "audience_report",
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("segment_count", sa.Integer(), nullable=False),
        sa.Column("included", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.Text(), nullable=False),
        sa.Column("built_by", sa.String(length=100), nullable=False),
        sa.Column("built_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_audience_report_campaign_id_campaign"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_audience_report")),
    )

    op.create_table(
        "suppression",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", "channel", name="pk_suppression"),
        info=PERSONAL,
    )

    op.create_index(
        "ix_visit_person_arrived",
        "visit",
        ["tenant_id", "person_id", "arrived_us"],
        unique=False,
    )
    op.create_index(
        "ix_consent_state_audience",
        "consent_state",
        [
            "tenant_id",
            "person_id",
            "purpose",
            "channel",
            "status",
            "needs_renewal",
            "minor_blocked",
            "expires_us",
            "by_guardian",
        ],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_consent_state_audience", table_name="consent_state")
    op.drop_index("ix_visit_person_arrived", table_name="visit")
    op.drop_table("suppression")
    op.drop_table("audience_report")
    op.drop_table("campaign_audience")
    op.drop_table("campaign_template")
    op.drop_index("ix_campaign_tenant_status", table_name="campaign")
    op.drop_table("campaign")
    op.drop_index("ix_segment_tenant", table_name="segment")
    op.drop_table("segment")
