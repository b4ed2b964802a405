"""The tables, in SQLAlchemy 2.x declarative form. Same schema on PostgreSQL and SQLite.

Every table in one module (about 600 lines), on purpose: foreign keys and relationships
cross the features (a problem link and an appointment request both point at an
incident), and every process, Alembic included, must see the whole metadata. The base
and the column types are in ``platform/orm.py``; the features own their use cases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake_service.platform.orm import Base


class Operator(Base):
    """A transport operator (company): the scope of ``operator`` tokens."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    # Appointments: where the operator's referent gets appointment notices.
    referent_email: Mapped[str | None] = mapped_column(String(254))


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
        Index("ix_incidents_group", "group_id"),
        # The duplicate lookup: a service's incidents around a time.
        Index("ix_incidents_service_occurred", "service_code", "occurred_at"),
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
    # certain, assumed (the zone table does not cover the département), corrected (an
    # assumed routing a command centre redirected): territory/rules/routing.py.
    routing_confidence: Mapped[str | None] = mapped_column(String(16))
    # The command-centre operator who took the incident ("je prends"), as an actor
    # ("user:3 (cic@…)"), and when: the other consoles of the service see it.
    held_by: Mapped[str | None] = mapped_column(String(200))
    held_at: Mapped[dt.datetime | None]
    # The group of reports of one event it belongs to (intake/duplicates.py), or None.
    group_id: Mapped[str | None] = mapped_column(ForeignKey("incident_groups.id"))
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


class IncidentGroup(Base):
    """Reports of one event, confirmed by the command centre (or grouped automatically
    for a strong match): acting on the lead acts on every member."""

    __tablename__ = "incident_groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(200))


class DuplicatePair(Base):
    """Two incidents that may be one event: proposed with their reasons, then decided
    ``same`` or ``distinct`` (a distinct pair is never proposed again).

    ``first_id`` < ``second_id``: one row per pair."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (Index("ix_duplicate_pairs_second", "second_id"),)

    first_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    second_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    # In French, as the GPO proposals give theirs.
    reasons: Mapped[list[Any]]
    strong: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))

    # Never loaded: declared so one flush writes the incidents before their pair.
    first: Mapped[Incident] = relationship(foreign_keys=[first_id], lazy="raise")
    second: Mapped[Incident] = relationship(foreign_keys=[second_id], lazy="raise")


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

    # Never loaded: declared so one flush writes the incident before its version.
    incident: Mapped[Incident] = relationship(lazy="raise")


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

    # Never loaded: declared so one flush writes the incident before this record.
    incident: Mapped[Incident] = relationship(lazy="raise")


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


class ConsumerFailure(Base):
    """How often a message failed a consumer, counted for every instance of it: with N
    consumers, a poison message is parked after MAX_ATTEMPTS tries, not N times that."""

    __tablename__ = "consumer_failures"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime]


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
    # The lock-out's, before issue 17 (failures are now in ``sign_in_failures``); unused,
    # kept for a release so that a rollback finds its columns.
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    last_sign_in_at: Mapped[dt.datetime | None]
    disabled_at: Mapped[dt.datetime | None]
    # A command centre's supervisor reassigns the incidents its operators took.
    supervisor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Every page session carries the epoch it was opened in; bumping it (sign-out,
    # disabling) ends all of the account's sessions (access/rules/sessions.py).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SignInFailure(Base):
    """Failed sign-ins of one address or one account (``access/rules/sign_in_delay.py``).

    The key is ``address:`` or ``account:`` and a SHA-256: neither the address nor the
    e-mail typed (an unknown one as well as a real one) is kept in clear here."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_last", "last_failure_at"),)

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime]


class WorkerHeartbeat(Base):
    """A worker process saying it is alive (for ``intake-service status``)."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime]
    seen_at: Mapped[dt.datetime]
    # Set when the process stopped cleanly (SIGTERM, SIGINT): stopped, not silent.
    stopped_at: Mapped[dt.datetime | None]


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


# --- GPO transports: problems, links, actions, journal (gpo-problems.md) ------------------


class Gpo(Base):
    """A thematic GPO transports: the services and operators whose incidents it looks at."""

    __tablename__ = "gpos"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Command-centre service codes (ddsp-31, ...) and operator codes it covers.
    services: Mapped[list[Any]]
    operators: Mapped[list[Any]]
    # Link strong matches (same stop and same nature) without waiting for the referent.
    auto_confirm_strong: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime]
    # The département it reports to (the national view's unit): 31, 2A, 974.
    department: Mapped[str | None] = mapped_column(String(3))
    # deployed, in_creation: the ministry counts both ("46 deployed and 23 in creation").
    status: Mapped[str] = mapped_column(String(16), server_default="deployed")
    # fortnightly, monthly, dates (no rhythm: each meeting planned by hand).
    meeting_rhythm: Mapped[str] = mapped_column(String(16), server_default="monthly")


class GpoPartner(Base):
    """An organisation taking part in a GPO (municipal police, transport authority...).

    A ``gpo_partner`` account's scope is ``<gpo code>:<partner code>``.
    """

    __tablename__ = "gpo_partners"

    gpo_code: Mapped[str] = mapped_column(ForeignKey("gpos.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Problem(Base):
    """A recurring problem a GPO works on, with the scope that decides its incidents."""

    __tablename__ = "problems"
    __table_args__ = (Index("ix_problems_gpo_state", "gpo_code", "state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    gpo_code: Mapped[str] = mapped_column(ForeignKey("gpos.code"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    # Why it is abandoned / out of scope / not resolved (where a reason is due).
    state_reason: Mapped[str | None] = mapped_column(Text)
    referent: Mapped[str] = mapped_column(String(200))
    # Partner codes (gpo_partners.code) involved.
    partners: Mapped[list[Any]]
    # {operators, routes, stops, point: {lat, lon, radius_m}, natures, weekdays, hours:
    #  {from, to}, start_date}: see schemas/gpo.py.
    scope: Mapped[dict[str, Any]]
    # closed → watch until this date; incidents in scope before it reopen the problem.
    watch_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class ProblemScopeKey(Base):
    """The index of open problems' scopes: the keys an incident must share to be a candidate.

    A key names one indexed dimension (``stop:<operator>:<stop_id>``,
    ``route:<operator>:<route_id>``, ``cell:<x>:<y>``, ``operator:<code>``,
    ``nature:<nature>``, ``any``); matching looks up the incident's keys, then
    checks the full scope of the few candidates.
    """

    __tablename__ = "problem_scope_keys"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    problem_id: Mapped[str] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True
    )


class ProblemLink(Base):
    """An incident proposed for, linked to, or rejected from a problem."""

    __tablename__ = "problem_links"
    __table_args__ = (
        UniqueConstraint("problem_id", "incident_id", name="uq_problem_links_pair"),
        Index("ix_problem_links_incident", "incident_id"),
        Index("ix_problem_links_problem_state", "problem_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"))
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    # proposed, confirmed, rejected, unlinked
    state: Mapped[str] = mapped_column(String(16))
    # matcher, manual, automatic
    origin: Mapped[str] = mapped_column(String(16))
    # Why it fits: [{"dimension": "stop", "text": "same stop"}, ...]
    reasons: Mapped[list[Any]]
    strong: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))


class ProblemAction(Base):
    """What a partner does about a problem, by when; police actions carry their order."""

    __tablename__ = "problem_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"), index=True)
    what: Mapped[str] = mapped_column(Text)
    owner_partner: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[dt.date | None]
    due_on: Mapped[dt.date | None]
    # planned, in_progress, done, cancelled
    status: Mapped[str] = mapped_column(String(16))
    service_order_reference: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ProblemJournalEntry(Base):
    """The problem's journal: meetings, decisions, state changes, who and when."""

    __tablename__ = "problem_journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"), index=True)
    at: Mapped[dt.datetime]
    # meeting, decision, note, state_change, action, link
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]]


class GpoMeeting(Base):
    """A GPO meeting: planned, then held (with attendance, decisions and minutes),
    skipped or cancelled. The brief's "since the last meeting" is the last one held."""

    __tablename__ = "gpo_meetings"
    __table_args__ = (Index("ix_gpo_meetings_gpo_planned", "gpo_code", "planned_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    gpo_code: Mapped[str] = mapped_column(ForeignKey("gpos.code"))
    planned_at: Mapped[dt.datetime]
    place: Mapped[str] = mapped_column(String(200))
    # planned, held, skipped, cancelled
    status: Mapped[str] = mapped_column(String(16))
    held_at: Mapped[dt.datetime | None]
    # The agenda as generated from the brief (and kept as sent): a list of items
    # {kind, problem_id, title, text}; aggregates and titles, never personal data.
    agenda: Mapped[list[Any]]
    agenda_sent_at: Mapped[dt.datetime | None]
    # The referent's reminder before the meeting (sent once).
    reminded_at: Mapped[dt.datetime | None]
    # The minutes' free text (the referent's summary), written for the partners.
    minutes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class GpoMeetingAttendee(Base):
    """A partner invited to a meeting, and whether it was present."""

    __tablename__ = "gpo_meeting_attendees"

    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("gpo_meetings.id", ondelete="CASCADE"), primary_key=True
    )
    partner_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    invited: Mapped[bool] = mapped_column(default=True)
    present: Mapped[bool] = mapped_column(default=False)


class GpoMeetingDecision(Base):
    """A decision taken at a meeting: a note, or an action created or changed, or a
    problem moved to another state (the change itself is made in the same transaction)."""

    __tablename__ = "gpo_meeting_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("gpo_meetings.id"), index=True)
    problem_id: Mapped[str | None] = mapped_column(ForeignKey("problems.id"))
    # note, action_created, action_changed, state_changed
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("problem_actions.id"))
    detail: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime]
    author: Mapped[str] = mapped_column(String(200))


class ProblemEvaluation(Base):
    """Collegial evaluation: a partner present at a meeting gives its view of a
    problem's assessment; the referent's state change shows these views."""

    __tablename__ = "problem_evaluations"
    __table_args__ = (
        UniqueConstraint(
            "problem_id", "meeting_id", "partner_code", name="uq_problem_evaluations_view"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"), index=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("gpo_meetings.id"))
    partner_code: Mapped[str] = mapped_column(String(64))
    # resolved, improved, not_resolved
    view: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))


# --- Priority complaint appointments (appointments.md) ------------------------------------


class PoliceStation(Base):
    """A police station taking complaints, and the communes it is competent for."""

    __tablename__ = "police_stations"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # The command-centre service (DDSP) it belongs to.
    service_code: Mapped[str | None] = mapped_column(String(32))
    # Where the station is alerted when a request waits for a slot.
    referent_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime]


class StationCommune(Base):
    """A commune (INSEE code) a station is competent for."""

    __tablename__ = "station_communes"

    insee_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    station_code: Mapped[str] = mapped_column(ForeignKey("police_stations.code"), primary_key=True)


class ComplaintSlot(Base):
    """A time when a station takes one complaint; a share is reserved for priority."""

    __tablename__ = "complaint_slots"
    __table_args__ = (Index("ix_complaint_slots_station_start", "station_code", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_code: Mapped[str] = mapped_column(ForeignKey("police_stations.code"))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    # Reserved for priority appointments until released (``released_at``).
    reserved: Mapped[bool] = mapped_column(default=False)
    released_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class AppointmentRequest(Base):
    """One eligible (or undecided) victim of one incident, waiting for or holding a slot.

    One per (incident, victim): re-processing an event finds it and books nothing more.
    """

    __tablename__ = "appointment_requests"
    __table_args__ = (
        UniqueConstraint("incident_id", "victim_index", name="uq_appointment_requests_victim"),
        Index("ix_appointment_requests_station_state", "station_code", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    victim_index: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    station_code: Mapped[str | None] = mapped_column(ForeignKey("police_stations.code"))
    priority: Mapped[str] = mapped_column(String(2))
    # The latest start the delay allows (2 days P1/P2, 5 working days otherwise).
    book_by: Mapped[dt.datetime]
    # Where that delay started (the incident's reception, or when the victim said yes):
    # a new priority's deadline counts from it. Null for requests made before it was
    # stored (migration 0010), whose start is inferred from ``book_by``.
    delay_from: Mapped[dt.datetime | None]
    # offered (undecided), waiting (no slot fits yet), booked, declined, cancelled
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Appointment(Base):
    """A slot given to a request. At most one live appointment holds a slot (database index)."""

    __tablename__ = "appointments"
    __table_args__ = (
        # The database refuses a second live appointment on a slot, whatever the code does.
        Index(
            "uq_appointments_live_slot",
            "slot_id",
            unique=True,
            postgresql_where=text("status = 'booked'"),
            sqlite_where=text("status = 'booked'"),
        ),
        Index("ix_appointments_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("appointment_requests.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("complaint_slots.id"))
    station_code: Mapped[str] = mapped_column(ForeignKey("police_stations.code"))
    # booked, cancelled, rescheduled, honoured, missed
    status: Mapped[str] = mapped_column(String(16))
    booked_at: Mapped[dt.datetime]
    booked_by: Mapped[str] = mapped_column(String(200))
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)


class EmailMessage(Base):
    """An email to send (appointment notices), retried until sent; failures stay visible."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_pending", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_requests.id"))
    # booked, rescheduled, cancelled, waiting_alert; notice, digest (functional mailboxes)
    kind: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    # pending, sent, failed (gave up)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


# --- The direct line, both ways (issue 14): directory, messages, CCTV, attachments ---------


class DirectoryEntity(Base):
    """An entity of the direct line (operator, police service, station, GPO, partner): its
    functional mailbox, its hours and which notices it wants there.

    ``code`` is the scope the entity's accounts carry: the operator code, the service
    code (``ddsp-31``), the station code, the GPO code, or ``<gpo>:<partner>``.
    """

    __tablename__ = "directory_entities"
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_directory_entities_kind_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # operator, police_service, police_station, gpo, partner
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(130))
    name: Mapped[str] = mapped_column(String(200))
    mailbox: Mapped[str | None] = mapped_column(String(254))
    hours: Mapped[str] = mapped_column(Text, default="")
    # The notice kinds (directory/rules/notices.py) the entity wants in its mailbox.
    notices: Mapped[list[Any]]
    # One email a day with the day's notices, instead of one email per notice.
    digest: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    referents: Mapped[list[DirectoryReferent]] = relationship(
        order_by="DirectoryReferent.position",
        lazy="selectin",
        cascade="all, delete-orphan",
        back_populates="entity",
    )


class DirectoryReferent(Base):
    """A named referent of an entity: who to call about the direct line."""

    __tablename__ = "directory_referents"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("directory_entities.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    function: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))

    entity: Mapped[DirectoryEntity] = relationship(back_populates="referents")


class MailboxNotice(Base):
    """One notice to an entity's functional mailbox: an email of its own, or a line of the
    day's digest. ``dedup_key`` makes each notice once (an alert re-run writes nothing)."""

    __tablename__ = "mailbox_notices"
    __table_args__ = (
        UniqueConstraint("dedup_key", name="uq_mailbox_notices_dedup_key"),
        Index("ix_mailbox_notices_digest", "state", "entity_id", "created_at"),
        Index("ix_mailbox_notices_incident", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("directory_entities.id"))
    kind: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(200))
    incident_id: Mapped[str | None] = mapped_column(String(36))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # emailed (its own email), digest (waits for the day's digest), digested
    state: Mapped[str] = mapped_column(String(16))
    email_id: Mapped[int | None] = mapped_column(ForeignKey("email_messages.id"))
    created_at: Mapped[dt.datetime]


class IncidentMessage(Base):
    """A message of an incident's conversation between its command centre and its operator.

    ``kind``: ``message`` (to the other side), ``rfi`` (a request for information, due
    by ``due_at``, answered by a message whose ``answers_id`` names it) or ``note``
    (internal to the author's side, never shown to the other).
    """

    __tablename__ = "incident_messages"
    __table_args__ = (
        # Numbered from 1 in each incident, under the incident's row lock: the order.
        UniqueConstraint("incident_id", "number", name="uq_incident_messages_number"),
        # Open requests for information, by due time (counts, overdue alerts).
        Index("ix_incident_messages_open_rfis", "kind", "answered_at", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    number: Mapped[int] = mapped_column(Integer)
    # command_centre (the CIC of the incident's service) or operator
    side: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    author_role: Mapped[str] = mapped_column(String(32))
    author_org: Mapped[str] = mapped_column(String(130))
    # The person (signed in) or the token label that wrote it.
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime | None]
    answers_id: Mapped[str | None] = mapped_column(ForeignKey("incident_messages.id"))
    # On a request for information: when and by which message it was answered.
    answered_at: Mapped[dt.datetime | None]
    answered_by_id: Mapped[str | None] = mapped_column(String(36))
    # The overdue notice was written (once) to the asked side's mailbox.
    overdue_noticed_at: Mapped[dt.datetime | None]
    # The sheet's version the answer amended in the same step, if it did.
    amended_version: Mapped[int | None] = mapped_column(Integer)


class CctvRequisition(Base):
    """A request for an incident's CCTV footage before it is erased.

    ``requested`` → ``extracted`` (the operator, with its reference) → ``handed_over``;
    or ``refused`` / ``erased`` with a reason.
    """

    __tablename__ = "cctv_requisitions"
    __table_args__ = (
        Index("ix_cctv_requisitions_incident", "incident_id"),
        Index("ix_cctv_requisitions_open", "state", "erase_deadline"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    state: Mapped[str] = mapped_column(String(16))
    # Which cameras, which period.
    what: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[dt.datetime]
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_role: Mapped[str] = mapped_column(String(32))
    requested_by_org: Mapped[str] = mapped_column(String(130))
    # When the footage is erased (the sheet's ``video.erased_after`` at the request).
    erase_deadline: Mapped[dt.datetime | None]
    extraction_reference: Mapped[str | None] = mapped_column(String(100))
    extracted_at: Mapped[dt.datetime | None]
    handed_over_to: Mapped[str | None] = mapped_column(String(200))
    handed_over_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None]
    # The 24 h and 2 h alerts to the operator's referent, each written once.
    alerted_24h_at: Mapped[dt.datetime | None]
    alerted_2h_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class Attachment(Base):
    """A file on an incident (photo, video extract, PDF), stored outside the web root.

    The content type is the one sniffed from the bytes, never the one sent.
    """

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_incident", "incident_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    message_id: Mapped[str | None] = mapped_column(ForeignKey("incident_messages.id"))
    side: Mapped[str] = mapped_column(String(16))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_by_role: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    # Retention removed the file (the row stays, for counts).
    deleted_at: Mapped[dt.datetime | None]
