"""Incidents taken by one command-centre operator; supervisors among the users

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("held_by", sa.String(200), nullable=True))
    op.add_column("incidents", sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "users",
        sa.Column("supervisor", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("users", "supervisor")
    op.drop_column("incidents", "held_at")
    op.drop_column("incidents", "held_by")
