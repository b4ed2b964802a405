"""Appointment requests: where the delay started

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing requests keep NULL: their start is inferred from their deadline, as
    # before (``appointments._book_by_for``). Recomputing it here would repeat that
    # guess in SQL on two databases for no gain in exactness.
    op.add_column(
        "appointment_requests",
        sa.Column("delay_from", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    # Not in batch mode: SQLite (3.35+) drops a plain column in place, whereas a batch
    # would copy and drop the table, which the appointments and emails referencing it
    # forbid while foreign keys are enforced.
    op.drop_column("appointment_requests", "delay_from")
