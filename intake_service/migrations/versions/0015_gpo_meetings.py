"""GPO meetings (attendance, decisions, minutes), collegial evaluation, and what the
national view needs of a GPO: its département, its status, its meeting rhythm

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
SERVICE_DEPARTMENT = re.compile(r"^(?:ddsp|ggd|dipn)-(\d[\dAB]\d?)$", re.IGNORECASE)


def upgrade() -> None:
    op.add_column("gpos", sa.Column("department", sa.String(length=3), nullable=True))
    op.add_column(
        "gpos",
        sa.Column("status", sa.String(length=16), nullable=False, server_default="deployed"),
    )
    op.add_column(
        "gpos",
        sa.Column(
            "meeting_rhythm", sa.String(length=16), nullable=False, server_default="monthly"
        ),
    )
    # The existing GPOs' département, from their first service with one in its code.
    bind = op.get_bind()
    gpos = sa.table("gpos", sa.column("code", sa.String), sa.column("services", JSON),
                    sa.column("department", sa.String))
    for code, services in bind.execute(sa.select(gpos.c.code, gpos.c.services)).all():
        for service in services or []:
            match = SERVICE_DEPARTMENT.match(str(service))
            if match:
                bind.execute(
                    gpos.update()
                    .where(gpos.c.code == code)
                    .values(department=match.group(1).upper())
                )
                break

    op.create_table(
        "gpo_meetings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("gpo_code", sa.String(length=64), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agenda", JSON, nullable=False),
        sa.Column("agenda_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gpo_code"], ["gpos.code"], name=op.f("fk_gpo_meetings_gpo_code_gpos")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gpo_meetings")),
    )
    op.create_index("ix_gpo_meetings_gpo_planned", "gpo_meetings", ["gpo_code", "planned_at"])
    op.create_table(
        "gpo_meeting_attendees",
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("partner_code", sa.String(length=64), nullable=False),
        sa.Column("invited", sa.Boolean(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["gpo_meetings.id"],
            name=op.f("fk_gpo_meeting_attendees_meeting_id_gpo_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "meeting_id", "partner_code", name=op.f("pk_gpo_meeting_attendees")
        ),
    )
    op.create_table(
        "gpo_meeting_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("problem_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["problem_actions.id"],
            name=op.f("fk_gpo_meeting_decisions_action_id_problem_actions"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["gpo_meetings.id"],
            name=op.f("fk_gpo_meeting_decisions_meeting_id_gpo_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_gpo_meeting_decisions_problem_id_problems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gpo_meeting_decisions")),
    )
    op.create_index(
        op.f("ix_gpo_meeting_decisions_meeting_id"), "gpo_meeting_decisions", ["meeting_id"]
    )
    op.create_table(
        "problem_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("partner_code", sa.String(length=64), nullable=False),
        sa.Column("view", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["gpo_meetings.id"],
            name=op.f("fk_problem_evaluations_meeting_id_gpo_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_problem_evaluations_problem_id_problems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_evaluations")),
        sa.UniqueConstraint(
            "problem_id", "meeting_id", "partner_code", name="uq_problem_evaluations_view"
        ),
    )
    op.create_index(
        op.f("ix_problem_evaluations_problem_id"), "problem_evaluations", ["problem_id"]
    )


def downgrade() -> None:
    op.drop_table("problem_evaluations")
    op.drop_table("gpo_meeting_decisions")
    op.drop_table("gpo_meeting_attendees")
    op.drop_table("gpo_meetings")
    with op.batch_alter_table("gpos") as batch:
        batch.drop_column("meeting_rhythm")
        batch.drop_column("status")
        batch.drop_column("department")
