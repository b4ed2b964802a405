"""Use cases on incidents: submit, amend, withdraw, read.

Each function runs inside the caller's transaction (``Database.transaction()``)
and never commits: the incident, its version, its status change and its outbox
event are committed together or not at all.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from intake_service import audit, lifecycle, outbox, webhooks
from intake_service.access import OPERATOR_VISIBLE_DETAIL, Principal, sees_incident
from intake_service.db import write_pending
from intake_service.models import (
    GtfsRoute,
    GtfsStop,
    IdempotencyRecord,
    Incident,
    IncidentVersion,
    Operator,
    StatusChange,
)
from intake_service.operators import find_operator
from intake_service.places import CommuneLocator, check_place, service_for_code
from intake_service.priority import assess
from intake_service.reference_cache import ReferenceCache
from intake_service.routing import UNROUTED_SERVICE, Routing
from intake_service.sheet_diff import changed_paths, merge_patch
from intake_service.sheet_warnings import sheet_warnings
from schemas.incident import IncidentSchema
from schemas.messages import ENVELOPE_VERSION, EnvelopeSchema
from schemas.sheet import SheetSchema, evaluated_at
from schemas.vocabulary import OPEN_STATUSES

_sheet_schema = SheetSchema()
_incident_schema = IncidentSchema()
_envelope_schema = EnvelopeSchema()


class IncidentNotFound(LookupError):
    """No such incident in the caller's scope (answered as 404 either way)."""


class UnknownOperator(LookupError):
    """The token names an operator that is not registered."""


class IdempotencyKeyReused(Exception):
    """The ``Idempotency-Key`` was first used with another body."""


@dataclass
class TransitionRefused(Exception):
    """The incident's status does not allow the change asked for."""

    status: str
    message: str


class InvalidCursor(ValueError):
    """A pagination cursor this service did not write."""


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
    stored_sheet = _sheet_schema.dump(sheet)
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
    _apply_routing(incident, place.routing)
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
    received = _status_change(incident, "received", principal, now, {})
    session.add(received)
    submitted = _record_event(session, incident, "incident.submitted", now, {})
    audit.record(session, principal, "incident.submit", "incident", incident_id, now=now)
    # The hot path of intake: every row above, and the webhook delivery if the
    # operator has a webhook, in one statement (on PostgreSQL).
    write_pending(session, webhooks.status_change_delivery(incident, received, now))
    return Accepted(incident, submitted["payload"]["incident"])


SYSTEM = Principal(role="system", scope="*", actor="relay")


def mark_queued(session: Session, incident_ids: Sequence[str], now: dt.datetime) -> None:
    """The submitted events reached the feed: ``received`` becomes ``queued``.

    Only from ``received``: the command centre may already have acted (it reads
    the database too), and a later status must not be overwritten. One UPDATE for
    the relay's whole batch: the condition is checked on each row as it is
    locked, so a concurrent acknowledgement wins and is left as it is.
    """
    if not incident_ids:
        return
    queued = session.execute(
        update(Incident)
        .where(Incident.id.in_(incident_ids), Incident.status == "received")
        .values(status="queued", updated_at=now)
        .returning(Incident.id, Incident.operator_id, Incident.operator_reference)
        .execution_options(synchronize_session=False)
    ).all()
    changes = [
        (
            row,
            StatusChange(
                incident_id=row.id,
                status="queued",
                at=now,
                author_role=SYSTEM.role,
                author=SYSTEM.actor,
                detail={},
            ),
        )
        for row in queued
    ]
    if not changes:
        return
    # The batch's rows in one INSERT, without the unit of work's bookkeeping: nothing
    # reads them back in this transaction.
    session.execute(
        insert(StatusChange),
        [
            {
                "incident_id": change.incident_id,
                "status": change.status,
                "at": change.at,
                "author_role": change.author_role,
                "author": change.author,
                "detail": change.detail,
            }
            for _, change in changes
        ],
    )
    webhooks.enqueue_status_changes(session, changes, now)


def get_incident(session: Session, principal: Principal, incident_id: str) -> Incident:
    """The incident, if the caller's scope covers it."""
    try:
        uuid.UUID(incident_id)
    except ValueError:
        raise IncidentNotFound(incident_id) from None
    incident = session.get(Incident, incident_id)
    if incident is None or not sees_incident(
        principal, incident.operator.code, incident.service_code
    ):
        raise IncidentNotFound(incident_id)
    return incident


def _get_for_update(session: Session, principal: Principal, incident_id: str) -> Incident:
    incident = get_incident(session, principal, incident_id)
    # Lock the row, then re-read it: of a concurrent acknowledgement and
    # withdrawal, the second sees the first's status and is refused.
    session.execute(select(Incident.id).where(Incident.id == incident.id).with_for_update())
    session.refresh(incident)
    return incident


def amend_incident(
    session: Session,
    principal: Principal,
    incident_id: str,
    patch: Mapping[str, Any],
    *,
    now: dt.datetime,
    locator: CommuneLocator,
    reference: ReferenceCache,
) -> Incident:
    """Merge ``patch`` into the sheet, validate the whole, keep a new version, recompute priority.

    The sheet's time bounds are checked against the time it was received: an
    amendment adds facts, it does not move the report in time.

    Routing follows the place while no command centre has the incident: if the
    amended place belongs to another service, the first one gets the amendment
    (showing where it went) and the new one gets the incident. A sheet returned
    by a command centre (``rejected`` without redirect) is sent again once
    amended. An incident a command centre redirected stays where it was sent.
    Raises marshmallow.ValidationError with the merged sheet's paths.
    """
    incident = _get_for_update(session, principal, incident_id)
    if incident.status not in lifecycle.AMENDABLE:
        raise TransitionRefused(
            incident.status, f"An incident that is {incident.status} cannot be amended."
        )
    merged = merge_patch(incident.sheet, dict(patch))
    with evaluated_at(incident.received_at):
        sheet = _sheet_schema.load(merged)
    stored_sheet = _sheet_schema.dump(sheet)
    changes = changed_paths(incident.sheet, stored_sheet)
    if not changes:
        return incident
    place = check_place(session, incident.operator_id, sheet["location"], locator, reference)
    assessment = assess(sheet, now)
    incident.version += 1
    incident.sheet = stored_sheet
    incident.updated_at = now
    incident.occurred_at = sheet["occurred_at"]
    incident.state = sheet["state"]
    incident.primary_nature = sheet["primary_nature"]
    incident.priority = assessment.priority
    incident.priority_rank = assessment.rank
    incident.priority_reason = assessment.reason
    incident.warnings = [*sheet_warnings(sheet, now), *place.warnings]
    previous_service = incident.service_code
    if incident.routing_basis != "redirected" and incident.status in lifecycle.REROUTABLE:
        _apply_routing(incident, place.routing)
    resubmit = incident.status == "rejected" or incident.service_code != previous_service
    session.add(
        IncidentVersion(
            incident_id=incident.id,
            version=incident.version,
            sheet=stored_sheet,
            priority=assessment.priority,
            changed_paths=changes,
            created_at=now,
            author=principal.actor,
        )
    )
    session.flush()
    if incident.status != "rejected":
        _record_event(
            session,
            incident,
            "incident.amended",
            now,
            {"changed_paths": changes},
            service_code=previous_service,
        )
    if resubmit:
        if incident.status != "received":
            _change_status(session, incident, "received", principal, now, {"resubmitted": True})
        incident.escalated_for = None
        session.flush()
        _record_event(session, incident, "incident.submitted", now, {})
    audit.record(
        session,
        principal,
        "incident.amend",
        "incident",
        incident.id,
        now=now,
        detail={"version": incident.version, "changed_paths": changes},
    )
    return incident


def withdraw_incident(
    session: Session,
    principal: Principal,
    incident_id: str,
    reason: str | None,
    *,
    now: dt.datetime,
) -> Incident:
    """Withdraw a sheet sent by mistake; refused once the command centre has acknowledged it."""
    incident = _get_for_update(session, principal, incident_id)
    if not lifecycle.can_move(incident.status, "withdrawn"):
        raise TransitionRefused(
            incident.status,
            f"The incident is {incident.status}: it can no longer be withdrawn, only amended."
            if incident.status in lifecycle.AMENDABLE
            else f"The incident is {incident.status}.",
        )
    _change_status(session, incident, "withdrawn", principal, now, {"reason": reason})
    incident.updated_at = now
    session.flush()
    _record_event(session, incident, "incident.withdrawn", now, {"reason": reason})
    audit.record(session, principal, "incident.withdraw", "incident", incident.id, now=now)
    return incident


def read_incident(
    session: Session, principal: Principal, incident_id: str, *, now: dt.datetime
) -> Incident:
    """The incident with its personal data, for a person or system to read: audited."""
    incident = get_incident(session, principal, incident_id)
    audit.record(session, principal, "incident.read", "incident", incident.id, now=now)
    return incident


def list_versions(
    session: Session, principal: Principal, incident_id: str, *, now: dt.datetime
) -> Sequence[IncidentVersion]:
    """Every version of the sheet (personal data included): audited."""
    incident = get_incident(session, principal, incident_id)
    audit.record(session, principal, "incident.versions.read", "incident", incident.id, now=now)
    return session.scalars(
        select(IncidentVersion)
        .where(IncidentVersion.incident_id == incident.id)
        .order_by(IncidentVersion.version)
    ).all()


def command_centre_queue(
    session: Session,
    principal: Principal,
    *,
    statuses: Sequence[str],
    priorities: Sequence[str],
    limit: int,
) -> Sequence[Incident]:
    """The service's open incidents: by priority, then within it by rank, then most recent."""
    in_service = (
        Incident.service_code.is_(None)
        if principal.scope == UNROUTED_SERVICE
        else Incident.service_code == principal.scope
    )
    query = select(Incident).where(in_service, Incident.status.in_(statuses or OPEN_STATUSES))
    if priorities:
        query = query.where(Incident.priority.in_(priorities))
    return session.scalars(
        query.order_by(
            Incident.priority, Incident.priority_rank, Incident.received_at.desc()
        ).limit(limit)
    ).all()


def change_status(
    session: Session,
    principal: Principal,
    incident_id: str,
    request: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> Incident:
    """Acknowledge, dispatch, close or reject: the command centre's actions.

    Each is a status change with its author, an ``incident.status_changed``
    event on the feed and a webhook delivery for the operator. A rejection with
    ``redirect_to`` sends the incident to the competent service instead.
    """
    incident = _get_for_update(session, principal, incident_id)
    target = request["status"]
    if not lifecycle.can_move(incident.status, target):
        raise TransitionRefused(
            incident.status, f"The incident is {incident.status}: it cannot become {target}."
        )
    detail = {
        key: request[key]
        for key in ("call_sign", "outcome", "comment", "cause", "redirect_to")
        if key in request
    }
    redirect = None
    if target == "rejected" and "redirect_to" in request:
        redirect = service_for_code(session, request["redirect_to"])
        if redirect is None or redirect.code == incident.service_code:
            raise UnknownService(request["redirect_to"])
    _change_status(session, incident, target, principal, now, detail)
    if target == "acknowledged":
        incident.acknowledged_at = now
    incident.updated_at = now
    session.flush()
    _record_event(
        session, incident, "incident.status_changed", now, {"status": target, "detail": detail}
    )
    if redirect is not None:
        _apply_routing(incident, Routing(redirect, incident.insee_code, "redirected"))
        _change_status(
            session, incident, "received", principal, now, {"rerouted_to": redirect.code}
        )
        incident.acknowledged_at = None
        incident.escalated_for = None
        session.flush()
        _record_event(session, incident, "incident.submitted", now, {})
    audit.record(
        session,
        principal,
        f"incident.{target}",
        "incident",
        incident.id,
        now=now,
        detail={key: value for key, value in detail.items() if key in ("outcome", "redirect_to")},
    )
    return incident


def record_escalation(
    session: Session, incident: Incident, now: dt.datetime, delay: dt.timedelta
) -> None:
    """Mark ``incident`` escalated for its priority and publish ``incident.escalated``."""
    incident.escalated_for = incident.priority
    incident.updated_at = now
    session.flush()
    _record_event(
        session,
        incident,
        "incident.escalated",
        now,
        {
            "unacknowledged_for_seconds": int((now - incident.received_at).total_seconds()),
            "delay_seconds": int(delay.total_seconds()),
        },
    )


class UnknownService(LookupError):
    """``redirect_to`` names no service this deployment knows."""


@dataclass(frozen=True)
class IncidentFilter:
    statuses: Sequence[str] = ()
    priorities: Sequence[str] = ()
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None


def list_incidents(
    session: Session,
    principal: Principal,
    filters: IncidentFilter,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Incident], str | None]:
    """The operator's own incidents, newest first, one page at a time."""
    operator = operator_of(session, principal)
    query = select(Incident).where(Incident.operator_id == operator.id)
    if filters.statuses:
        query = query.where(Incident.status.in_(filters.statuses))
    if filters.priorities:
        query = query.where(Incident.priority.in_(filters.priorities))
    if filters.received_from is not None:
        query = query.where(Incident.received_at >= filters.received_from)
    if filters.received_to is not None:
        query = query.where(Incident.received_at < filters.received_to)
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(
            or_(
                Incident.received_at < after_at,
                and_(Incident.received_at == after_at, Incident.id < after_id),
            )
        )
    rows = session.scalars(
        query.order_by(Incident.received_at.desc(), Incident.id.desc()).limit(limit + 1)
    ).all()
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].received_at, page[-1].id) if len(rows) > limit else None
    return page, next_cursor


def encode_cursor(received_at: dt.datetime, incident_id: str) -> str:
    raw = json.dumps([received_at.isoformat(), incident_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, incident_id = json.loads(raw)
        if not isinstance(at, str) or not isinstance(incident_id, str):
            raise TypeError("a cursor holds two strings")
        moment = dt.datetime.fromisoformat(at)
        uuid.UUID(incident_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
    if moment.tzinfo is None:
        raise InvalidCursor(cursor)
    return moment, incident_id


def history_for(principal: Principal | None, change: StatusChange) -> dict[str, Any]:
    """One status change as ``principal`` may see it (None: in full, for the feed)."""
    if principal is None or principal.role != "operator" or change.author_role == "operator":
        return {
            "status": change.status,
            "at": change.at,
            "author_role": change.author_role,
            "author": change.author,
            "detail": change.detail,
        }
    return {
        "status": change.status,
        "at": change.at,
        "author_role": change.author_role,
        "author": change.author_role,
        "detail": {k: v for k, v in change.detail.items() if k in OPERATOR_VISIBLE_DETAIL},
    }


def summary_document(incident: Incident) -> dict[str, Any]:
    """An incident in a list: no personal data (input of ``IncidentSummarySchema``)."""
    return {
        "id": incident.id,
        "operator_reference": incident.operator_reference,
        "received_at": incident.received_at,
        "updated_at": incident.updated_at,
        "occurred_at": incident.occurred_at,
        "status": incident.status,
        "priority": incident.priority,
        "state": incident.state,
        "primary_nature": incident.primary_nature,
        "version": incident.version,
    }


def incident_document(incident: Incident, viewer: Principal | None = None) -> dict[str, Any]:
    """The incident as the API and the feed show it (input of ``IncidentSchema``).

    ``viewer`` narrows what an operator sees of the command centre's actions.
    """
    competent_service = (
        {
            "kind": incident.service_kind,
            "code": incident.service_code,
            "name": incident.service_name,
        }
        if incident.service_code
        else None
    )
    return {
        "id": incident.id,
        "operator": incident.operator.code,
        "operator_reference": incident.operator_reference,
        "received_at": incident.received_at,
        "updated_at": incident.updated_at,
        "status": incident.status,
        "priority": incident.priority,
        "priority_reason": incident.priority_reason,
        "version": incident.version,
        "warnings": incident.warnings,
        "competent_service": competent_service,
        "police_zone": incident.police_zone,
        "insee_code": incident.insee_code,
        "routing_basis": incident.routing_basis,
        "status_history": [history_for(viewer, change) for change in incident.status_changes],
        "sheet": incident.sheet,
    }


def _apply_routing(incident: Incident, routing: Routing) -> None:
    service = routing.service
    incident.service_code = service.code if service else None
    incident.service_kind = service.kind if service else None
    incident.service_name = service.name if service else None
    incident.police_zone = service.police_zone if service else None
    incident.insee_code = routing.insee_code
    incident.routing_basis = routing.basis


def _change_status(
    session: Session,
    incident: Incident,
    status: str,
    principal: Principal,
    now: dt.datetime,
    detail: dict[str, Any],
) -> None:
    change = _status_change(incident, status, principal, now, detail)
    session.add(change)
    webhooks.enqueue_status_change(session, incident, change, now)


def _status_change(
    incident: Incident,
    status: str,
    principal: Principal,
    now: dt.datetime,
    detail: dict[str, Any],
) -> StatusChange:
    """The incident takes ``status``: its history gets the change (to add to the session)."""
    incident.status = status
    change = StatusChange(
        incident_id=incident.id,
        status=status,
        at=now,
        author_role=principal.role,
        author=principal.actor,
        detail=detail,
    )
    incident.status_changes.append(change)
    return change


_CURRENT_SERVICE: Any = object()


def _record_event(
    session: Session,
    incident: Incident,
    event_type: str,
    now: dt.datetime,
    extra: dict[str, Any],
    *,
    service_code: str | None = _CURRENT_SERVICE,
) -> dict[str, Any]:
    """Write the event to the outbox, in the same transaction as the change; return it.

    It goes to the incident's service, or to ``service_code`` when given (the
    service an incident just left).
    """
    incident.event_sequence += 1
    envelope = _envelope_schema.dump(
        {
            "id": str(uuid.uuid4()),
            "type": event_type,
            "version": ENVELOPE_VERSION,
            "occurred_at": now,
            "payload": {
                "incident": incident_document(incident),
                "sequence": incident.event_sequence,
                **extra,
            },
        }
    )
    outbox.add_event(
        session,
        envelope,
        incident_id=incident.id,
        service_code=incident.service_code if service_code is _CURRENT_SERVICE else service_code,
        priority=incident.priority,
        now=now,
    )
    return envelope


# --- read-only queries for the pages ------------------------------------------------------


@dataclass(frozen=True)
class PlaceNames:
    """The GTFS names of an incident's line and stops, when the operator's feed has them."""

    route: str | None = None
    route_long_name: str | None = None
    stop: str | None = None
    previous_stop: str | None = None
    next_stop: str | None = None


def place_names(session: Session, incident: Incident) -> PlaceNames:
    """Names of the line and stops the sheet gives by GTFS id (None where unknown)."""
    location = incident.sheet.get("location") or {}

    def stop_name(key: str) -> str | None:
        stop_id = location.get(key)
        stop = session.get(GtfsStop, (incident.operator_id, stop_id)) if stop_id else None
        return stop.name if stop is not None else None

    route_id = location.get("route_id")
    route = session.get(GtfsRoute, (incident.operator_id, route_id)) if route_id else None
    return PlaceNames(
        route=route.short_name or route.long_name if route is not None else None,
        route_long_name=route.long_name if route is not None else None,
        stop=stop_name("stop_id"),
        previous_stop=stop_name("previous_stop_id"),
        next_stop=stop_name("next_stop_id"),
    )


def incidents_by_id(session: Session, incident_ids: Sequence[str]) -> dict[str, Incident]:
    """The incidents with these ids, whatever their scope: the caller checks it
    (``access.sees_incident``) before showing anything."""
    if not incident_ids:
        return {}
    found = session.scalars(select(Incident).where(Incident.id.in_(set(incident_ids)))).all()
    return {incident.id: incident for incident in found}


def closed_between(
    session: Session, principal: Principal, start: dt.datetime, end: dt.datetime
) -> Sequence[tuple[Incident, StatusChange]]:
    """The command centre's incidents closed in ``[start, end)``, latest first, with the
    closing step."""
    in_service = (
        Incident.service_code.is_(None)
        if principal.scope == UNROUTED_SERVICE
        else Incident.service_code == principal.scope
    )
    rows = session.execute(
        select(Incident, StatusChange)
        .join(StatusChange, StatusChange.incident_id == Incident.id)
        .where(
            in_service,
            Incident.status == "closed",
            StatusChange.status == "closed",
            StatusChange.at >= start,
            StatusChange.at < end,
        )
        .order_by(StatusChange.at.desc())
    ).all()
    return [(incident, change) for incident, change in rows]
