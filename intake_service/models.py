"""The tables, in SQLAlchemy 2.x declarative form. Same schema on PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names, so Alembic migrations stay portable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime,
        dict[str, Any]: JsonDocument,
        list[Any]: JsonDocument,
    }


class Operator(Base):
    """A transport operator (company): the scope of ``operator`` tokens."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]


class ApiToken(Base):
    """A bearer token. Only the SHA-256 of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, shown in listings to tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class Incident(Base):
    """An accepted sheet: its current version, computed priority and status."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint(
            "operator_id", "operator_reference", name="uq_incidents_operator_reference"
        ),
        Index("ix_incidents_operator_received", "operator_id", "received_at", "id"),
        Index("ix_incidents_service_queue", "service_code", "status", "priority", "priority_rank"),
        Index("ix_incidents_unacknowledged", "priority", "status", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    operator_reference: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    occurred_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(2))
    priority_rank: Mapped[int] = mapped_column(Integer)
    priority_reason: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    primary_nature: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    sheet: Mapped[dict[str, Any]]
    warnings: Mapped[list[Any]]
    # Routing: filled by the routing step (competent command centre).
    service_code: Mapped[str | None] = mapped_column(String(32))
    service_kind: Mapped[str | None] = mapped_column(String(32))
    service_name: Mapped[str | None] = mapped_column(String(200))
    police_zone: Mapped[str | None] = mapped_column(String(32))
    insee_code: Mapped[str | None] = mapped_column(String(5))
    routing_basis: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[dt.datetime | None]
    # The priority whose acknowledgement delay was passed and published (once per
    # priority: an amendment that raises the priority escalates again).
    escalated_for: Mapped[str | None] = mapped_column(String(2))
    # When its personal data was pseudonymised (retention), or None.
    pseudonymised_at: Mapped[dt.datetime | None]
    # Counts the incident's events: consumers apply an event only if its
    # ``sequence`` is above the last they applied (relays may publish out of order).
    event_sequence: Mapped[int] = mapped_column(Integer, default=0)

    operator: Mapped[Operator] = relationship(lazy="joined")
    status_changes: Mapped[list[StatusChange]] = relationship(
        order_by="StatusChange.id", lazy="selectin", back_populates="incident"
    )


class IncidentVersion(Base):
    """Every version of a sheet, as stored; version 1 is the sheet as submitted."""

    __tablename__ = "incident_versions"
    __table_args__ = (
        UniqueConstraint("incident_id", "version", name="uq_incident_versions_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sheet: Mapped[dict[str, Any]]
    priority: Mapped[str] = mapped_column(String(2))
    changed_paths: Mapped[list[Any]]
    created_at: Mapped[dt.datetime]
    author: Mapped[str] = mapped_column(String(200))


class StatusChange(Base):
    """One step of an incident's lifecycle, with its author."""

    __tablename__ = "incident_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]
    author_role: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]]

    incident: Mapped[Incident] = relationship(back_populates="status_changes")


class OutboxEvent(Base):
    """An event committed with the change it describes, waiting for the relay.

    ``position`` orders events; ``event_id`` is the id consumers deduplicate on.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "position"),)

    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[str] = mapped_column(String(36), index=True)
    service_code: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(2))
    envelope: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The HTTP request (or job) that caused the event: followed into the feed and the logs.
    request_id: Mapped[str | None] = mapped_column(String(64))


class IdempotencyRecord(Base):
    """The first answer to an ``Idempotency-Key``: replayed to retries of the same body."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("operator_id", "key", name="uq_idempotency_records_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    created_at: Mapped[dt.datetime]


class GtfsFeed(Base):
    """The operator's imported GTFS feed: one per operator, replaced as a whole."""

    __tablename__ = "gtfs_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), unique=True)
    imported_at: Mapped[dt.datetime]
    source: Mapped[str] = mapped_column(String(500))
    routes_count: Mapped[int] = mapped_column(Integer)
    stops_count: Mapped[int] = mapped_column(Integer)
    route_stops_count: Mapped[int] = mapped_column(Integer)


class GtfsRoute(Base):
    __tablename__ = "gtfs_routes"

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    short_name: Mapped[str] = mapped_column(String(64))
    long_name: Mapped[str] = mapped_column(String(255))
    route_type: Mapped[int] = mapped_column(Integer)


class GtfsStop(Base):
    """A stop or station, with the commune it lies in (found once, at import)."""

    __tablename__ = "gtfs_stops"
    # A station's platforms are looked up by their parent (is a stop served by a route?).
    __table_args__ = (Index("ix_gtfs_stops_parent", "operator_id", "parent_station"),)

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), primary_key=True)
    stop_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    location_type: Mapped[int] = mapped_column(Integer)
    parent_station: Mapped[str | None] = mapped_column(String(64))
    insee_code: Mapped[str | None] = mapped_column(String(5))


class GtfsRouteStop(Base):
    """A stop served by a route (from trips and stop_times, when the feed has them)."""

    __tablename__ = "gtfs_route_stops"

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stop_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class PoliceZone(Base):
    """A commune in a police zone and the police service competent there (deployment data)."""

    __tablename__ = "police_zones"

    insee_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    service_code: Mapped[str] = mapped_column(String(32))
    service_name: Mapped[str] = mapped_column(String(200))


class AppliedEvent(Base):
    """An event a consumer has applied: consumers skip the ones they already did."""

    __tablename__ = "applied_events"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    applied_at: Mapped[dt.datetime]


class Webhook(Base):
    """Where an operator wants its incidents' status changes POSTed."""

    __tablename__ = "webhooks"

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]


class WebhookDelivery(Base):
    """One status change to POST to an operator's webhook, retried with backoff."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("operator_id", "event_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    event_id: Mapped[str] = mapped_column(String(36))
    incident_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[dict[str, Any]]
    # pending, delivered, failed (gave up after the last attempt)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]


class User(Base):
    """A person who signs in to the pages, with one role and scope like a token."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # argon2id hash (argon2-cffi); never the password.
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    last_sign_in_at: Mapped[dt.datetime | None]
    disabled_at: Mapped[dt.datetime | None]


class WorkerHeartbeat(Base):
    """A worker process saying it is alive (for ``intake-service status``)."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime]
    seen_at: Mapped[dt.datetime]


class AuditEntry(Base):
    """Who did or read what, when, from where. Append-only: the application never
    updates or deletes a row, and on PostgreSQL a trigger refuses it (migration 0007).

    ``detail`` holds ids and codes, never the personal data itself, so the admin
    who reads the log does not see the sheets."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_resource", "resource_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]
