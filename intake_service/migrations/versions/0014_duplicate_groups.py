"""Duplicate reports: candidate pairs and groups of incidents with one lead

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "incident_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_groups")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its REFERENCES, never a constraint afterwards (and a
        # batch copy of ``incidents`` is refused while foreign keys point to it).
        op.execute(
            "ALTER TABLE incidents ADD COLUMN group_id VARCHAR(36) "
            "REFERENCES incident_groups (id)"
        )
    else:
        op.add_column("incidents", sa.Column("group_id", sa.String(length=36), nullable=True))
        op.create_foreign_key(
            op.f("fk_incidents_group_id_incident_groups"),
            "incidents",
            "incident_groups",
            ["group_id"],
            ["id"],
        )
    op.create_index("ix_incidents_group", "incidents", ["group_id"])
    # The duplicate lookup: a service's incidents around a time.
    op.create_index("ix_incidents_service_occurred", "incidents", ["service_code", "occurred_at"])
    op.create_table(
        "duplicate_pairs",
        sa.Column("first_id", sa.String(length=36), nullable=False),
        sa.Column("second_id", sa.String(length=36), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("strong", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["first_id"], ["incidents.id"], name=op.f("fk_duplicate_pairs_first_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["second_id"], ["incidents.id"], name=op.f("fk_duplicate_pairs_second_id_incidents")
        ),
        sa.PrimaryKeyConstraint("first_id", "second_id", name=op.f("pk_duplicate_pairs")),
    )
    op.create_index("ix_duplicate_pairs_second", "duplicate_pairs", ["second_id"])


def downgrade() -> None:
    op.drop_index("ix_duplicate_pairs_second", table_name="duplicate_pairs")
    op.drop_table("duplicate_pairs")
    op.drop_index("ix_incidents_service_occurred", table_name="incidents")
    op.drop_index("ix_incidents_group", table_name="incidents")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(
            op.f("fk_incidents_group_id_incident_groups"), "incidents", type_="foreignkey"
        )
    op.drop_column("incidents", "group_id")
    op.drop_table("incident_groups")
