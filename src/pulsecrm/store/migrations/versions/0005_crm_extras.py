"""crm core extras (issue 4): a task's lead, a referral's channel, the notice a form
submission was made under.

* ``task.lead_id`` — a task about a lead keeps the lead (and its person), so the
  work queue can open the lead it is about;
* ``referral.channel`` — how the referral came in (a code, never free text);
* ``form_submission.notice_hash`` — the notice version shown with the form.

Batch mode: SQLite adds a column with a foreign key only by rebuilding the table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("lead_id", sa.String(32), nullable=True))
        batch.create_foreign_key("fk_task_lead_id_lead", "lead", ["lead_id"], ["id"])
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("channel", sa.String(32), nullable=True))
    with op.batch_alter_table("form_submission") as batch:
        batch.add_column(sa.Column("notice_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("form_submission") as batch:
        batch.drop_column("notice_hash")
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("channel")
    with op.batch_alter_table("task") as batch:
        batch.drop_constraint("fk_task_lead_id_lead", type_="foreignkey")
        batch.drop_column("lead_id")
