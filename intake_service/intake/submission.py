"""Submitting a sheet: the operator, the place and its competent service, the priority,
and the idempotent replay.

``submit_incident`` runs inside the caller's transaction (``Database.transaction()``)
and never commits: the incident, its version, its status change and its outbox event
are committed together or not at all. The same ``Idempotency-Key`` with the same body
replays the first answer (201); with another body it is refused
(``IdempotencyKeyReused``, answered 422). An operator reference already used (without
that key) is a duplicate, answered 409 with the first incident's ``Location``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import (
    Principal,
)
from intake_service.feed import webhooks
from intake_service.intake import duplicates
from intake_service.intake.events import record_event, status_change
from intake_service.intake.places import CommuneLocator, check_place
from intake_service.intake.rules.priority import assess
from intake_service.intake.rules.warnings import sheet_warnings
from intake_service.models import (
    IdempotencyRecord,
    Incident,
    IncidentVersion,
    Operator,
)
from intake_service.platform.db import write_pending
from intake_service.territory.operators import find_operator
from intake_service.territory.reference_cache import ReferenceCache
from intake_service.territory.rules.routing import Routing
from schemas.sheet import SheetSchema

sheet_schema = SheetSchema()


class UnknownOperator(LookupError):
    """The token names an operator that is not registered."""


class IdempotencyKeyReused(Exception):
    """The ``Idempotency-Key`` was first used with another body."""


@dataclass(frozen=True)
class IdempotencyClaim:
    key: str
    request_hash: str


def request_hash(body: Any) -> str:
    """A digest of a JSON body that ignores key order and whitespace."""
    import hashlib

    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def operator_of(
    session: Session, principal: Principal, reference: ReferenceCache | None = None
) -> Operator:
    """The operator of an ``operator`` principal (through ``reference`` when given)."""
    operator = (
        find_operator(session, principal.scope)
        if reference is None
        else reference.operator(session, principal.scope)
    )
    if operator is None:
        raise UnknownOperator(principal.scope)
    return operator


def find_by_reference(session: Session, principal: Principal, reference: str) -> str | None:
    """The id of the operator's incident with this ``operator_reference``, if any."""
    return session.scalar(
        select(Incident.id)
        .join(Operator, Operator.id == Incident.operator_id)
        .where(Operator.code == principal.scope, Incident.operator_reference == reference)
    )


def find_replay(
    session: Session,
    principal: Principal,
    claim: IdempotencyClaim,
    *,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> Incident | None:
    """The incident first created under ``claim.key``, or None if the key is new (or expired).

    Raises IdempotencyKeyReused when the key was first used with another body.
    """
    record = session.scalar(
        select(IdempotencyRecord)
        .join(Operator, Operator.id == IdempotencyRecord.operator_id)
        .where(Operator.code == principal.scope, IdempotencyRecord.key == claim.key)
    )
    if record is None or record.created_at < now - ttl:
        return None
    if record.request_hash != claim.request_hash:
        raise IdempotencyKeyReused()
    return session.get(Incident, record.incident_id)


@dataclass(frozen=True)
class FirstSubmission:
    """What a unique index found first when it refused a sheet."""

    replay: Incident | None  # the same key and body came first: answer with it (201)
    duplicate_of: str | None  # the incident holding the operator reference (409)


def first_submission(
    session: Session,
    principal: Principal,
    claim: IdempotencyClaim | None,
    reference: str,
    *,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> FirstSubmission:
    """A sheet was refused by a unique index (maybe a concurrent request won): the
    incident to replay when its Idempotency-Key came first with the same body, else the
    incident holding its operator reference; neither when another constraint refused it.

    Raises IdempotencyKeyReused when the key came first with another body.
    """
    if claim is not None:
        replay = find_replay(session, principal, claim, now=now, ttl=ttl)
        if replay is not None:
            return FirstSubmission(replay=replay, duplicate_of=None)
    return FirstSubmission(
        replay=None, duplicate_of=find_by_reference(session, principal, reference)
    )


@dataclass(frozen=True)
class Accepted:
    """A sheet just accepted: its incident, and the incident's document (``IncidentSchema``
    dumped) as its ``incident.submitted`` event carries it. The submitter sees the same:
    the only status change is its own, shown in full to its author's role."""

    incident: Incident
    document: dict[str, Any]


def submit_incident(
    session: Session,
    principal: Principal,
    sheet: Mapping[str, Any],
    *,
    now: dt.datetime,
    locator: CommuneLocator,
    reference: ReferenceCache,
    claim: IdempotencyClaim | None = None,
    ttl: dt.timedelta = dt.timedelta(hours=24),
    duplicate_settings: duplicates.DuplicateSettings = duplicates.DEFAULT,
) -> Accepted:
    """Accept a validated sheet: incident, version 1, status and ``incident.submitted`` event.

    A sheet whose ``operator_reference`` or idempotency key was already used
    fails on a unique index with an IntegrityError (no query beforehand: the
    index decides, also between concurrent requests, where the second blocks
    until the first commits); the caller replays the first answer or answers 409.
    """
    operator = operator_of(session, principal, reference)
    incident_id = str(uuid.uuid4())
    if claim is not None:
        # An expired record with the same key gives its key up.
        expired = session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.operator_id == operator.id,
                IdempotencyRecord.key == claim.key,
                IdempotencyRecord.created_at < now - ttl,
            )
        )
        if expired is not None:
            session.delete(expired)
            session.flush()
    place = check_place(session, operator.id, sheet["location"], locator, reference)
    stored_sheet = sheet_schema.dump(sheet)
    assessment = assess(sheet, now)
    incident = Incident(
        id=incident_id,
        operator_id=operator.id,
        operator=operator,
        operator_reference=sheet["operator_reference"],
        received_at=now,
        updated_at=now,
        occurred_at=sheet["occurred_at"],
        status="received",
        priority=assessment.priority,
        priority_rank=assessment.rank,
        priority_reason=assessment.reason,
        state=sheet["state"],
        primary_nature=sheet["primary_nature"],
        version=1,
        sheet=stored_sheet,
        warnings=[*sheet_warnings(sheet, now), *place.warnings],
        escalated_for=None,
        event_sequence=0,
        # Known empty: reading it later must not query the database.
        status_changes=[],
    )
    apply_routing(incident, place.routing)
    # Not flushed yet: everything below is written in one flush at commit, the
    # incident with its final event sequence (no second UPDATE of the row).
    session.add(incident)
    if claim is not None:
        session.add(
            IdempotencyRecord(
                operator_id=operator.id,
                key=claim.key,
                request_hash=claim.request_hash,
                status_code=201,
                incident_id=incident_id,
                created_at=now,
            )
        )
    session.add(
        IncidentVersion(
            incident_id=incident_id,
            version=1,
            sheet=stored_sheet,
            priority=assessment.priority,
            changed_paths=[],
            created_at=now,
            author=principal.actor,
        )
    )
    received = status_change(incident, "received", principal, now, {})
    session.add(received)
    proposal = duplicates.propose(session, incident, duplicate_settings, now=now)
    submitted = record_event(
        session, incident, "incident.submitted", now, {"duplicates": proposal.candidates}
    )
    duplicates.group_strong(session, incident, proposal, now=now, actor=principal.actor)
    audit.record(session, principal, "incident.submit", "incident", incident_id, now=now)
    # The hot path of intake: every row above, and the webhook delivery if the
    # operator has a webhook, in one statement (on PostgreSQL).
    write_pending(session, webhooks.status_change_delivery(incident, received, now))
    return Accepted(incident, submitted["payload"]["incident"])


def apply_routing(incident: Incident, routing: Routing) -> None:
    service = routing.service
    incident.service_code = service.code if service else None
    incident.service_kind = service.kind if service else None
    incident.service_name = service.name if service else None
    incident.police_zone = service.police_zone if service else None
    incident.insee_code = routing.insee_code
    incident.routing_basis = routing.basis
    incident.routing_confidence = routing.confidence
