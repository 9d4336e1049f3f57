"""access (issue 6): MFA, sessions, lockout, break-glass.

Placeholder reserved so parallel work keeps one linear revision chain; the
owning package fills it in.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:20:00
"""

from alembic import op  # noqa: F401

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
