"""Incidents: how sure their routing is

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Incidents received before keep NULL: whether the zone table covered their
    # département then is not known any more.
    op.add_column("incidents", sa.Column("routing_confidence", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("incidents", "routing_confidence")
