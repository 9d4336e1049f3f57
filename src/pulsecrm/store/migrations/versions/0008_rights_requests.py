"""rights (issue 6): data-subject request intake with legal clocks.

Placeholder reserved so parallel work keeps one linear revision chain; the
owning package fills it in.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:20:00
"""

from alembic import op  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
