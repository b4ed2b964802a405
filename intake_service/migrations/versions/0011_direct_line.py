"""The direct line both ways: directory, mailbox notices, messages, CCTV, attachments

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_entities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=130), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("mailbox", sa.String(length=254), nullable=True),
        sa.Column("hours", sa.Text(), nullable=False),
        sa.Column(
            "notices",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_entities")),
        sa.UniqueConstraint("kind", "code", name="uq_directory_entities_kind_code"),
    )
    op.create_table(
        "directory_referents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("function", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["directory_entities.id"],
            name=op.f("fk_directory_referents_entity_id_directory_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_referents")),
    )
    op.create_index(
        op.f("ix_directory_referents_entity_id"), "directory_referents", ["entity_id"], unique=False
    )
    op.create_table(
        "cctv_requisitions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_role", sa.String(length=32), nullable=False),
        sa.Column("requested_by_org", sa.String(length=130), nullable=False),
        sa.Column("erase_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extraction_reference", sa.String(length=100), nullable=True),
        sa.Column("extracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_over_to", sa.String(length=200), nullable=True),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alerted_24h_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alerted_2h_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_cctv_requisitions_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cctv_requisitions")),
    )
    op.create_index(
        "ix_cctv_requisitions_incident", "cctv_requisitions", ["incident_id"], unique=False
    )
    op.create_index(
        "ix_cctv_requisitions_open", "cctv_requisitions", ["state", "erase_deadline"], unique=False
    )
    op.create_table(
        "incident_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_role", sa.String(length=32), nullable=False),
        sa.Column("author_org", sa.String(length=130), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answers_id", sa.String(length=36), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.String(length=36), nullable=True),
        sa.Column("overdue_noticed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("amended_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answers_id"],
            ["incident_messages.id"],
            name=op.f("fk_incident_messages_answers_id_incident_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_messages_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_messages")),
        sa.UniqueConstraint("incident_id", "number", name="uq_incident_messages_number"),
    )
    op.create_index(
        "ix_incident_messages_open_rfis",
        "incident_messages",
        ["kind", "answered_at", "due_at"],
        unique=False,
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by_role", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_attachments_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["incident_messages.id"],
            name=op.f("fk_attachments_message_id_incident_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(
        "ix_attachments_incident", "attachments", ["incident_id", "created_at"], unique=False
    )
    op.create_table(
        "mailbox_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("email_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["email_messages.id"],
            name=op.f("fk_mailbox_notices_email_id_email_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["directory_entities.id"],
            name=op.f("fk_mailbox_notices_entity_id_directory_entities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailbox_notices")),
        sa.UniqueConstraint("dedup_key", name="uq_mailbox_notices_dedup_key"),
    )
    op.create_index(
        "ix_mailbox_notices_digest",
        "mailbox_notices",
        ["state", "entity_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_mailbox_notices_incident", "mailbox_notices", ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mailbox_notices_incident", table_name="mailbox_notices")
    op.drop_index("ix_mailbox_notices_digest", table_name="mailbox_notices")
    op.drop_table("mailbox_notices")
    op.drop_index("ix_attachments_incident", table_name="attachments")
    op.drop_table("attachments")
    op.drop_index("ix_incident_messages_open_rfis", table_name="incident_messages")
    op.drop_table("incident_messages")
    op.drop_index("ix_cctv_requisitions_open", table_name="cctv_requisitions")
    op.drop_index("ix_cctv_requisitions_incident", table_name="cctv_requisitions")
    op.drop_table("cctv_requisitions")
    op.drop_index(op.f("ix_directory_referents_entity_id"), table_name="directory_referents")
    op.drop_table("directory_referents")
    op.drop_table("directory_entities")
