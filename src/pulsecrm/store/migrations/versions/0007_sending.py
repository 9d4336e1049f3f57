"""marketing sending (issue 5): message ledger, delivery events, inbound replies.

Placeholder reserved so parallel work keeps one linear revision chain; the
owning package fills it in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:20:00
"""

from alembic import op  # noqa: F401

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
