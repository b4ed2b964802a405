"""Priority complaint appointments: stations, slots, requests, appointments, emails

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The operator's referent address for appointment notices.
    op.add_column("operators", sa.Column("referent_email", sa.String(length=254), nullable=True))
    op.create_table(
        "police_stations",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("service_code", sa.String(length=32), nullable=True),
        sa.Column("referent_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_police_stations")),
    )
    op.create_table(
        "complaint_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_code", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reserved", sa.Boolean(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_code"],
            ["police_stations.code"],
            name=op.f("fk_complaint_slots_station_code_police_stations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_slots")),
    )
    op.create_index(
        "ix_complaint_slots_station_start",
        "complaint_slots",
        ["station_code", "starts_at"],
        unique=False,
    )
    op.create_table(
        "station_communes",
        sa.Column("insee_code", sa.String(length=5), nullable=False),
        sa.Column("station_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_code"],
            ["police_stations.code"],
            name=op.f("fk_station_communes_station_code_police_stations"),
        ),
        sa.PrimaryKeyConstraint("insee_code", "station_code", name=op.f("pk_station_communes")),
    )
    op.create_table(
        "appointment_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("victim_index", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("station_code", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("book_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_appointment_requests_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_appointment_requests_operator_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["station_code"],
            ["police_stations.code"],
            name=op.f("fk_appointment_requests_station_code_police_stations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_requests")),
        sa.UniqueConstraint("incident_id", "victim_index", name="uq_appointment_requests_victim"),
    )
    op.create_index(
        "ix_appointment_requests_station_state",
        "appointment_requests",
        ["station_code", "state", "created_at"],
        unique=False,
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("station_code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_by", sa.String(length=200), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["appointment_requests.id"],
            name=op.f("fk_appointments_request_id_appointment_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["complaint_slots.id"],
            name=op.f("fk_appointments_slot_id_complaint_slots"),
        ),
        sa.ForeignKeyConstraint(
            ["station_code"],
            ["police_stations.code"],
            name=op.f("fk_appointments_station_code_police_stations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index("ix_appointments_request", "appointments", ["request_id"], unique=False)
    op.create_index(
        "uq_appointments_live_slot",
        "appointments",
        ["slot_id"],
        unique=True,
        postgresql_where=sa.text("status = 'booked'"),
        sqlite_where=sa.text("status = 'booked'"),
    )
    op.create_table(
        "email_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "recipients",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ics", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_email_messages_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["appointment_requests.id"],
            name=op.f("fk_email_messages_request_id_appointment_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
    )
    op.create_index(
        "ix_email_messages_pending", "email_messages", ["state", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_email_messages_pending", table_name="email_messages")
    op.drop_table("email_messages")
    op.drop_index(
        "uq_appointments_live_slot",
        table_name="appointments",
        postgresql_where=sa.text("status = 'booked'"),
        sqlite_where=sa.text("status = 'booked'"),
    )
    op.drop_index("ix_appointments_request", table_name="appointments")
    op.drop_table("appointments")
    op.drop_index("ix_appointment_requests_station_state", table_name="appointment_requests")
    op.drop_table("appointment_requests")
    op.drop_table("station_communes")
    op.drop_index("ix_complaint_slots_station_start", table_name="complaint_slots")
    op.drop_table("complaint_slots")
    op.drop_table("police_stations")
    with op.batch_alter_table("operators") as batch_op:
        batch_op.drop_column("referent_email")
