"""The hotspots: incidents by line × hour of the week and by stop, over a period, with the
lines and stops an open problem covers marked (``rules/hotspots.py`` counts).

A ``gpo_referent`` sees its GPO's incidents (those of its services or operators, as the
assessment counts them); the ``national`` role every incident, or one GPO's
(``gpo``). Another GPO asked by a referent, or an unknown one, is ``NotFound``.
Aggregates only: counts per line, hour and stop, the stops' names and positions from
the GTFS; never an incident id, a sheet's own coordinates, a narrative or a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal, gpo_of
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.models import (
    Gpo,
    GtfsRoute,
    GtfsStop,
    Incident,
    Operator,
    Problem,
    ProblemLink,
)
from intake_service.overview.rules import hotspots as rules
from intake_service.overview.rules.figures import Period
from intake_service.overview.rules.hotspots import Place, PlaceFact
from intake_service.platform.errors import NotFound


@dataclass(frozen=True)
class HotLine:
    place: Place
    name: str
    count: int
    open_problem: bool
    hours: list[list[int]]


@dataclass(frozen=True)
class HotStop:
    place: Place
    name: str
    lat: float | None
    lon: float | None
    count: int
    open_problem: bool


@dataclass(frozen=True)
class Hotspots:
    period: Period
    gpo: str | None
    count: int
    without_line: int
    without_stop: int
    lines: Sequence[HotLine]
    stops: Sequence[HotStop]


def _gpo_asked(session: Session, principal: Principal, gpo_code: str | None) -> Gpo | None:
    """The GPO whose incidents are counted: the referent's own, the one the ministry
    names, or none (every incident, the ministry only)."""
    if principal.role == "gpo_referent":
        own = gpo_of(principal)
        if gpo_code not in (None, own):
            raise NotFound(str(gpo_code))
        gpo_code = own
    elif principal.role != "national":
        raise NotFound("hotspots")
    if gpo_code is None:
        return None
    gpo = session.get(Gpo, gpo_code)
    if gpo is None:
        raise NotFound(gpo_code)
    return gpo


def _place(location: dict[str, Any], key: str, operator: str) -> Place | None:
    value = location.get(key)
    return (operator, str(value)) if value else None


def _facts(session: Session, gpo: Gpo | None, period: Period) -> list[PlaceFact]:
    query = (
        select(Incident.occurred_at, Incident.sheet, Operator.code)
        .join(Operator, Operator.id == Incident.operator_id)
        .where(
            Incident.occurred_at >= period.since,
            Incident.occurred_at < period.until,
            Incident.status != "withdrawn",
        )
    )
    if gpo is not None:
        conditions = []
        if gpo.services:
            conditions.append(Incident.service_code.in_(list(gpo.services)))
        if gpo.operators:
            conditions.append(Operator.code.in_(list(gpo.operators)))
        query = query.where(or_(*conditions) if conditions else Incident.id.is_(None))
    found = []
    for occurred_at, sheet, operator in session.execute(query):
        location = (sheet or {}).get("location") or {}
        found.append(
            PlaceFact(
                occurred_at=occurred_at,
                line=_place(location, "route_id", operator),
                stop=_place(location, "stop_id", operator),
            )
        )
    return found


def _open_places(
    session: Session, gpo: Gpo | None, now: dt.datetime
) -> tuple[set[Place], set[Place]]:
    """The lines and stops an open problem names in its scope or has linked incidents at."""
    query = select(Problem)
    if gpo is not None:
        query = query.where(Problem.gpo_code == gpo.code)
    problems = [
        p
        for p in session.scalars(query.where(Problem.state.in_(problem_lifecycle.LINKABLE_STATES)))
        if problem_lifecycle.is_linkable(p.state, p.watch_until, now)
    ]
    lines: set[Place] = set()
    stops: set[Place] = set()
    for problem in problems:
        scope = problem.scope or {}
        for route in scope.get("routes") or []:
            lines.add((str(route.get("operator")), str(route.get("route_id"))))
        for stop in scope.get("stops") or []:
            stops.add((str(stop.get("operator")), str(stop.get("stop_id"))))
    ids = [p.id for p in problems]
    for start in range(0, len(ids), 500):
        for sheet, operator in session.execute(
            select(Incident.sheet, Operator.code)
            .join(ProblemLink, ProblemLink.incident_id == Incident.id)
            .join(Operator, Operator.id == Incident.operator_id)
            .where(ProblemLink.problem_id.in_(ids[start : start + 500]))
            .where(ProblemLink.state == "confirmed")
        ):
            location = (sheet or {}).get("location") or {}
            line = _place(location, "route_id", operator)
            stop = _place(location, "stop_id", operator)
            if line:
                lines.add(line)
            if stop:
                stops.add(stop)
    return lines, stops


def hotspots(
    session: Session,
    principal: Principal,
    period: Period,
    now: dt.datetime,
    gpo_code: str | None = None,
) -> Hotspots:
    gpo = _gpo_asked(session, principal, gpo_code)
    facts = _facts(session, gpo, period)
    heat = rules.line_heat(facts)
    line_totals = {place: sum(map(sum, week)) for place, week in heat.items()}
    top_lines = rules.top(line_totals, rules.TOP_LINES)
    top_stops = rules.top(dict(rules.stop_counts(facts)), rules.TOP_STOPS)
    open_lines, open_stops = _open_places(session, gpo, now)
    operator_ids = dict(session.execute(select(Operator.code, Operator.id)).all())
    lines = []
    for place, count in top_lines:
        route = session.get(GtfsRoute, (operator_ids.get(place[0], -1), place[1]))
        name = (route.short_name or route.long_name) if route is not None else place[1]
        lines.append(HotLine(place, name, count, place in open_lines, heat[place]))
    stops = []
    for place, count in top_stops:
        stop = session.get(GtfsStop, (operator_ids.get(place[0], -1), place[1]))
        parent = (place[0], stop.parent_station) if stop and stop.parent_station else None
        stops.append(
            HotStop(
                place=place,
                name=stop.name if stop is not None else place[1],
                lat=stop.lat if stop is not None else None,
                lon=stop.lon if stop is not None else None,
                count=count,
                open_problem=place in open_stops or (parent is not None and parent in open_stops),
            )
        )
    return Hotspots(
        period=period,
        gpo=gpo.code if gpo is not None else None,
        count=len(facts),
        without_line=sum(1 for f in facts if f.line is None),
        without_stop=sum(1 for f in facts if f.stop is None),
        lines=lines,
        stops=stops,
    )


def hotspots_document(found: Hotspots) -> dict[str, Any]:
    return {
        "from_": found.period.first,
        "to": found.period.last,
        "gpo": found.gpo,
        "count": found.count,
        "without_line": found.without_line,
        "without_stop": found.without_stop,
        "lines": [
            {
                "operator": line.place[0],
                "route_id": line.place[1],
                "name": line.name,
                "count": line.count,
                "open_problem": line.open_problem,
                "hours": line.hours,
            }
            for line in found.lines
        ],
        "stops": [
            {
                "operator": stop.place[0],
                "stop_id": stop.place[1],
                "name": stop.name,
                "lat": stop.lat,
                "lon": stop.lon,
                "count": stop.count,
                "open_problem": stop.open_problem,
            }
            for stop in found.stops
        ],
    }
