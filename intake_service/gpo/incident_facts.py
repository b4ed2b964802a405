"""An incident as the GPO rules see it (``IncidentFacts``: place, stops, route,
natures, time; no personal data), and which incidents a GPO covers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake_service.gpo.rules import scope as gpo_scope
from intake_service.gpo.rules.scope import IncidentFacts
from intake_service.models import (
    Gpo,
    GtfsStop,
    Incident,
    Operator,
    Problem,
)

# --- facts ---------------------------------------------------------------------------------


def _location_stop_ids(incident: Incident) -> list[str]:
    location = incident.sheet.get("location") or {}
    return [
        str(location[key])
        for key in ("stop_id", "previous_stop_id", "next_stop_id")
        if location.get(key)
    ]


def _stops_of(session: Session, incidents: Sequence[Incident]) -> dict[tuple[int, str], GtfsStop]:
    """The GTFS stops the incidents name, by (operator id, stop id), in one query."""
    wanted = {(i.operator_id, stop_id) for i in incidents for stop_id in _location_stop_ids(i)}
    if not wanted:
        return {}
    rows = session.scalars(
        select(GtfsStop).where(
            GtfsStop.operator_id.in_({op for op, _ in wanted}),
            GtfsStop.stop_id.in_({stop for _, stop in wanted}),
        )
    ).all()
    return {(s.operator_id, s.stop_id): s for s in rows if (s.operator_id, s.stop_id) in wanted}


def _facts(incident: Incident, stops: Mapping[tuple[int, str], GtfsStop]) -> IncidentFacts:
    sheet = incident.sheet
    location = sheet.get("location") or {}
    stop_ids: set[str] = set()
    for stop_id in _location_stop_ids(incident):
        stop_ids.add(stop_id)
        stop = stops.get((incident.operator_id, stop_id))
        if stop is not None and stop.parent_station:
            stop_ids.add(stop.parent_station)
    coordinates = location.get("coordinates") or {}
    lat, lon = coordinates.get("lat"), coordinates.get("lon")
    if lat is None or lon is None:
        stop = stops.get((incident.operator_id, str(location.get("stop_id"))))
        lat, lon = (stop.lat, stop.lon) if stop is not None else (None, None)
    victims = sheet.get("victims") or []
    return IncidentFacts(
        incident_id=incident.id,
        operator=incident.operator.code,
        service_code=incident.service_code,
        route_id=location.get("route_id") or None,
        stop_ids=frozenset(stop_ids),
        lat=float(lat) if lat is not None else None,
        lon=float(lon) if lon is not None else None,
        natures=frozenset(sheet.get("natures") or [incident.primary_nature]),
        occurred_at=incident.occurred_at,
        priority=incident.priority,
        has_staff_victim=any(v.get("kind") == "staff" for v in victims),
        injury_severity=str((sheet.get("injuries") or {}).get("severity", "none")),
    )


def facts_of(session: Session, incident: Incident) -> IncidentFacts:
    """What the matcher needs of an incident (its stops with their parent stations)."""
    return _facts(incident, _stops_of(session, [incident]))


def facts_of_many(session: Session, incidents: Sequence[Incident]) -> list[IncidentFacts]:
    stops = _stops_of(session, incidents)
    return [_facts(incident, stops) for incident in incidents]


def _covered(session: Session, gpo: Gpo) -> Any:
    """The SQL condition: an incident of the GPO's services or operators."""
    conditions = []
    if gpo.services:
        conditions.append(Incident.service_code.in_(list(gpo.services)))
    if gpo.operators:
        operator_ids = select(Operator.id).where(Operator.code.in_(list(gpo.operators)))
        conditions.append(Incident.operator_id.in_(operator_ids))
    return or_(*conditions) if conditions else Incident.id.is_(None)


def gpo_covers(gpo: Gpo, incident: Incident) -> bool:
    return (incident.service_code is not None and incident.service_code in gpo.services) or (
        incident.operator.code in gpo.operators
    )


def gpo_incidents(
    session: Session, gpo: Gpo, since: dt.datetime, until: dt.datetime
) -> Sequence[Incident]:
    """The GPO's incidents (not withdrawn) that occurred in ``[since, until)``."""
    return session.scalars(
        select(Incident)
        .where(
            _covered(session, gpo),
            Incident.occurred_at >= since,
            Incident.occurred_at < until,
            Incident.status != "withdrawn",
        )
        .order_by(Incident.occurred_at, Incident.id)
    ).all()


def in_scope_incidents(
    session: Session, problem: Problem, since: dt.datetime, until: dt.datetime
) -> list[tuple[Incident, IncidentFacts]]:
    """Every incident of the GPO's services/operators in ``[since, until)`` that fits the
    problem's scope, linked or not, oldest first."""
    gpo = session.get(Gpo, problem.gpo_code)
    if gpo is None:
        return []
    incidents = gpo_incidents(session, gpo, since, until)
    return [
        (incident, facts)
        for incident, facts in zip(incidents, facts_of_many(session, incidents), strict=True)
        if gpo_scope.match(problem.scope, facts) is not None
    ]
