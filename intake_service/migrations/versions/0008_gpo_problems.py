"""GPO transports: GPOs, partners, problems, scope index, links, actions, journal

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gpos",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "services",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "operators",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("auto_confirm_strong", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_gpos")),
    )
    op.create_table(
        "gpo_partners",
        sa.Column("gpo_code", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["gpo_code"], ["gpos.code"], name=op.f("fk_gpo_partners_gpo_code_gpos")
        ),
        sa.PrimaryKeyConstraint("gpo_code", "code", name=op.f("pk_gpo_partners")),
    )
    op.create_table(
        "problems",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("gpo_code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("referent", sa.String(length=200), nullable=False),
        sa.Column(
            "partners",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "scope",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("watch_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gpo_code"], ["gpos.code"], name=op.f("fk_problems_gpo_code_gpos")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problems")),
    )
    op.create_index("ix_problems_gpo_state", "problems", ["gpo_code", "state"], unique=False)
    op.create_table(
        "problem_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.String(length=36), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("owner_partner", sa.String(length=64), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("service_order_reference", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"], ["problems.id"], name=op.f("fk_problem_actions_problem_id_problems")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_actions")),
    )
    op.create_index(
        op.f("ix_problem_actions_problem_id"), "problem_actions", ["problem_id"], unique=False
    )
    op.create_table(
        "problem_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"], ["problems.id"], name=op.f("fk_problem_journal_problem_id_problems")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_journal")),
    )
    op.create_index(
        op.f("ix_problem_journal_problem_id"), "problem_journal", ["problem_id"], unique=False
    )
    op.create_table(
        "problem_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("strong", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_problem_links_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"], ["problems.id"], name=op.f("fk_problem_links_problem_id_problems")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_links")),
        sa.UniqueConstraint("problem_id", "incident_id", name="uq_problem_links_pair"),
    )
    op.create_index("ix_problem_links_incident", "problem_links", ["incident_id"], unique=False)
    op.create_index(
        "ix_problem_links_problem_state", "problem_links", ["problem_id", "state"], unique=False
    )
    op.create_table(
        "problem_scope_keys",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("problem_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_problem_scope_keys_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", "problem_id", name=op.f("pk_problem_scope_keys")),
    )


def downgrade() -> None:
    op.drop_table("problem_scope_keys")
    op.drop_index("ix_problem_links_problem_state", table_name="problem_links")
    op.drop_index("ix_problem_links_incident", table_name="problem_links")
    op.drop_table("problem_links")
    op.drop_index(op.f("ix_problem_journal_problem_id"), table_name="problem_journal")
    op.drop_table("problem_journal")
    op.drop_index(op.f("ix_problem_actions_problem_id"), table_name="problem_actions")
    op.drop_table("problem_actions")
    op.drop_index("ix_problems_gpo_state", table_name="problems")
    op.drop_table("problems")
    op.drop_table("gpo_partners")
    op.drop_table("gpos")
