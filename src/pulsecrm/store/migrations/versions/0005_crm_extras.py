"""crm core extras (issue 4): form submission storage, task lead link, referral channel.

Placeholder reserved so parallel work keeps one linear revision chain; the
owning package fills it in.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:20:00
"""

from alembic import op  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
