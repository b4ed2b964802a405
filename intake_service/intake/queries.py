"""Reading incidents within the caller's scope: one, its versions, a page of a list
(keyset cursor), the names of its place, the closed ones of a day.

An incident outside the caller's scope is ``NotFound`` (404), as an absent one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import (
    Principal,
    sees_incident,
)
from intake_service.intake.submission import operator_of
from intake_service.models import (
    GtfsRoute,
    GtfsStop,
    Incident,
    IncidentVersion,
    StatusChange,
)
from intake_service.platform.errors import NotFound
from intake_service.territory.rules.routing import UNROUTED_SERVICE


class InvalidCursor(ValueError):
    """A pagination cursor this service did not write."""


def get_incident(session: Session, principal: Principal, incident_id: str) -> Incident:
    """The incident, if the caller's scope covers it."""
    try:
        uuid.UUID(incident_id)
    except ValueError:
        raise NotFound(incident_id) from None
    incident = session.get(Incident, incident_id)
    if incident is None or not sees_incident(
        principal, incident.operator.code, incident.service_code
    ):
        raise NotFound(incident_id)
    return incident


def get_for_update(session: Session, principal: Principal, incident_id: str) -> Incident:
    incident = get_incident(session, principal, incident_id)
    # Lock the row, then re-read it: of a concurrent acknowledgement and
    # withdrawal, the second sees the first's status and is refused.
    session.execute(select(Incident.id).where(Incident.id == incident.id).with_for_update())
    session.refresh(incident)
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


# --- read-only queries for the pages ------------------------------------------------------


@dataclass(frozen=True)
class PlaceNames:
    """The GTFS names of an incident's line and stops, when the operator's feed has them."""

    route: str | None = None
    route_long_name: str | None = None
    stop: str | None = None
    previous_stop: str | None = None
    next_stop: str | None = None
    # The stop's GTFS point (lat, lon), for a sheet that gives no point of its own.
    stop_point: tuple[float, float] | None = None


def place_names(session: Session, incident: Incident) -> PlaceNames:
    """Names of the line and stops the sheet gives by GTFS id (None where unknown)."""
    location = incident.sheet.get("location") or {}

    def stop_name(key: str) -> str | None:
        stop_id = location.get(key)
        stop = session.get(GtfsStop, (incident.operator_id, stop_id)) if stop_id else None
        return stop.name if stop is not None else None

    route_id = location.get("route_id")
    route = session.get(GtfsRoute, (incident.operator_id, route_id)) if route_id else None
    stop_id = location.get("stop_id")
    stop = session.get(GtfsStop, (incident.operator_id, stop_id)) if stop_id else None
    return PlaceNames(
        stop_point=(stop.lat, stop.lon)
        if stop is not None and stop.lat is not None and stop.lon is not None
        else None,
        route=route.short_name or route.long_name if route is not None else None,
        route_long_name=route.long_name if route is not None else None,
        stop=stop_name("stop_id"),
        previous_stop=stop_name("previous_stop_id"),
        next_stop=stop_name("next_stop_id"),
    )


def incidents_by_id(session: Session, incident_ids: Sequence[str]) -> dict[str, Incident]:
    """The incidents with these ids, whatever their scope: the caller checks it
    (``permissions.sees_incident``) before showing anything."""
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
