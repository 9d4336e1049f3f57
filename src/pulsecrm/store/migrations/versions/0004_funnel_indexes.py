"""funnel indexes: covering indexes for the set-based funnel (crm/funnel.py).

* ``lead`` by cohort (tenant, created) carrying every dimension and the
  first-response time: the cohort GROUP BY reads the index only;
* ``lead`` by id carrying tenant, created and the dimensions: each step's join
  back to its lead reads the index only;
* per-step ``(tenant_id, lead_id, …)`` carrying what the step aggregates, so
  the per-lead GROUP BY streams over the index without touching the table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:55:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = (
    (
        "ix_lead_funnel_cohort",
        "lead",
        [
            "tenant_id",
            "created_us",
            "channel",
            "campaign",
            "owner_id",
            "branch_id",
            "first_response_us",
        ],
    ),
    (
        "ix_lead_funnel_key",
        "lead",
        ["id", "tenant_id", "created_us", "channel", "campaign", "owner_id", "branch_id"],
    ),
    ("ix_appointment_funnel", "appointment", ["tenant_id", "lead_id", "status"]),
    ("ix_deal_funnel", "deal", ["tenant_id", "lead_id", "amount_cents"]),
    (
        "ix_followup_task_funnel",
        "followup_task",
        ["tenant_id", "lead_id", "status", "due_us", "completed_us"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
