"""The national view's scenario: three GPOs in two départements, written through the real
use cases, and the plain description of it the tests compute their expectations from.

- ``gpo-toulouse`` (31, deployed, fortnightly): ddsp-31 and the operator tisseo;
- ``gpo-toulouse-nord`` (31, in creation, monthly, created 1 December): tisseo too, so
  its incidents are Toulouse's (the département counts them once);
- ``gpo-marseille`` (13, deployed, monthly): ddsp-13.

Problems move through their lifecycle with ``gpo.problems`` at the given instants;
meetings are ``GpoMeeting`` rows (held, skipped, cancelled, planned) and journal
meeting entries; incidents are submitted over the API (tisseo in Toulouse, mistral
in Marseille and in Toulon, which no GPO covers), one withdrawn; appointment
requests and bookings are rows (``tests/appointment_data``). Every sheet carries the
personal data of ``tests.factories.BASE_SHEET``.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from intake_service.access.rules.permissions import Principal
from intake_service.gpo import gpos, problems
from intake_service.models import GpoMeeting, GtfsRoute, GtfsStop, Operator
from intake_service.platform.clock import PARIS
from intake_service.platform.db import Database
from intake_service.territory import zones
from tests.appointment_data import STAFF_VICTIM, add_request, add_slot, add_station, book
from tests.conftest import Clock
from tests.factories import a_sheet

FIRST = dt.date(2025, 10, 1)
LAST = dt.date(2026, 3, 14)
ZONES = [
    ("31555", "ddsp-31", "DIPN 31"),
    ("13055", "ddsp-13", "DIPN 13"),
    ("83137", "ddsp-83", "DIPN 83"),
]


def paris(text: str) -> dt.datetime:
    """``2025-10-10 20:00`` in Paris, as a UTC instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=PARIS).astimezone(dt.UTC)


@dataclass(frozen=True)
class GpoSpec:
    code: str
    name: str
    department: str
    status: str
    rhythm: str
    services: tuple[str, ...]
    operators: tuple[str, ...]
    created: dt.datetime


GPOS = (
    GpoSpec("gpo-toulouse", "GPO transports Toulouse", "31", "deployed", "fortnightly",
            ("ddsp-31",), ("tisseo",), paris("2025-06-01 09:00")),
    GpoSpec("gpo-toulouse-nord", "GPO transports Toulouse Nord", "31", "in_creation", "monthly",
            (), ("tisseo",), paris("2025-12-01 09:00")),
    GpoSpec("gpo-marseille", "GPO transports Marseille", "13", "deployed", "monthly",
            ("ddsp-13",), (), paris("2025-06-01 09:00")),
)  # fmt: skip

COORDINATES = {
    "31555": {"lat": 43.58391, "lon": 1.44349},
    "13055": {"lat": 43.29650, "lon": 5.36980},
    "83137": {"lat": 43.12420, "lon": 5.92800},
}
FORWARD = ("qualified", "analysis", "action_plan", "in_progress", "assessment")


@dataclass(frozen=True)
class ProblemSpec:
    gpo: str
    created: dt.datetime
    # (instant, target state, reason) in order.
    moves: tuple[tuple[dt.datetime, str, str | None], ...]


def _path(start: str, *rest: tuple[str, str] | tuple[str, str, str]) -> tuple[Any, ...]:
    """The five forward steps a day apart from ``start``, then ``rest``."""
    base = paris(start)
    steps: list[tuple[dt.datetime, str, str | None]] = [
        (base + dt.timedelta(days=n + 1), to, None) for n, to in enumerate(FORWARD)
    ]
    for item in rest:
        steps.append((paris(item[0]), item[1], item[2] if len(item) == 3 else None))
    return tuple(steps)


PROBLEMS = (
    # Created before the period, resolved in it (56 days), then closed (watch).
    ProblemSpec("gpo-toulouse", paris("2025-09-15 10:00"),
                _path("2025-09-15 10:00", ("2025-11-10 10:00", "resolved"),
                      ("2025-11-20 10:00", "closed"))),
    # Not resolved at its assessment: back to analysis, then worked on again.
    ProblemSpec("gpo-toulouse", paris("2025-10-05 10:00"),
                _path("2025-10-05 10:00", ("2025-12-02 10:00", "not_resolved", "Pas d'effet."),
                      ("2025-12-10 10:00", "action_plan"), ("2025-12-15 10:00", "in_progress"))),
    # Abandoned.
    ProblemSpec("gpo-toulouse", paris("2025-11-01 10:00"),
                ((paris("2025-11-02 10:00"), "qualified", None),
                 (paris("2025-11-15 10:00"), "abandoned", "Doublon."))),
    # Just reported.
    ProblemSpec("gpo-toulouse", paris("2026-01-10 10:00"), ()),
    # Improved.
    ProblemSpec("gpo-toulouse", paris("2026-02-01 10:00"),
                _path("2026-02-01 10:00", ("2026-03-01 10:00", "improved"))),
    # Resolved in 62 days.
    ProblemSpec("gpo-toulouse", paris("2025-12-01 10:00"),
                _path("2025-12-01 10:00", ("2026-02-01 10:00", "resolved"))),
    # Before the period altogether.
    ProblemSpec("gpo-toulouse", paris("2025-08-01 10:00"),
                ((paris("2025-09-01 10:00"), "abandoned", "Réglé ailleurs."),)),
    # Marseille: resolved in 61 days, one qualified, one out of scope.
    ProblemSpec("gpo-marseille", paris("2025-10-10 10:00"),
                _path("2025-10-10 10:00", ("2025-12-10 10:00", "resolved"))),
    ProblemSpec("gpo-marseille", paris("2026-02-10 10:00"),
                ((paris("2026-02-11 10:00"), "qualified", None),)),
    ProblemSpec("gpo-marseille", paris("2025-10-20 10:00"),
                ((paris("2025-10-25 10:00"), "out_of_scope", "Réseau SNCF."),)),
)  # fmt: skip

# The problems' scopes (by index): an open one names line 14, a reported one the
# station of stop B; the first one (its watch ended) names line 2, no longer open.
SCOPES = {
    0: {"operators": ["tisseo"], "routes": [{"operator": "tisseo", "route_id": "line:2"}]},
    1: {"operators": ["tisseo"], "routes": [{"operator": "tisseo", "route_id": "line:14"}]},
    3: {"operators": ["tisseo"], "stops": [{"operator": "tisseo", "stop_id": "stop_area:SA_B"}]},
}
# The GTFS of the places: (operator, id, name, lat, lon, parent station).
ROUTES = (("tisseo", "line:14", "14"), ("tisseo", "line:2", "L2"), ("mistral", "line:M1", "M1"))
STOPS = (
    ("tisseo", "stop_point:SP_A", "Jeanne d'Arc", 43.6110, 1.4450, None),
    ("tisseo", "stop_point:SP_B", "Capitole", 43.6045, 1.4440, "stop_area:SA_B"),
    ("mistral", "stop_point:SP_M", "Vieux-Port", 43.2950, 5.3740, None),
)

# (gpo, planned at, status): held meetings count, the others do not.
MEETINGS = (
    *(("gpo-toulouse", paris(f"{day} 14:00"), "held") for day in (
        "2025-10-02", "2025-10-16", "2025-10-30", "2025-11-13", "2025-11-27",
        "2026-01-15", "2026-02-01", "2026-02-15", "2026-03-01")),
    ("gpo-toulouse", paris("2025-12-11 14:00"), "skipped"),
    ("gpo-toulouse", paris("2025-12-26 14:00"), "cancelled"),
    ("gpo-toulouse", paris("2026-03-20 14:00"), "planned"),
    # Before the period: not counted.
    ("gpo-toulouse", paris("2025-09-18 14:00"), "held"),
    *(("gpo-toulouse-nord", paris(f"{day} 10:00"), "held") for day in (
        "2025-12-20", "2026-01-18", "2026-02-17", "2026-03-05")),
    *(("gpo-marseille", paris(f"{day} 10:00"), "held") for day in (
        "2025-10-05", "2025-11-03", "2025-12-01", "2026-01-02")),
    ("gpo-marseille", paris("2026-02-02 10:00"), "skipped"),
)  # fmt: skip
# Legacy meetings written in problems' journals: (gpo, problem index, instant).
JOURNAL_MEETINGS = (
    ("gpo-toulouse", 1, paris("2026-03-10 18:00")),
    ("gpo-toulouse", 3, paris("2026-03-10 18:30")),  # the same day: one meeting
    ("gpo-toulouse", 1, paris("2025-11-13 15:00")),  # the day of a held meeting
)


@dataclass(frozen=True)
class IncidentSpec:
    key: str
    operator: str  # "operator" (tisseo) or "other_operator" (mistral)
    insee: str
    occurred: dt.datetime
    nature: str
    victims: tuple[str, ...]  # kinds
    withdrawn: bool = False
    state: str = "over"
    route: str = "line:142"
    stop: str | None = None


INCIDENTS = (
    IncidentSpec("t1", "operator", "31555", paris("2025-10-10 20:00"), "physical_assault_staff",
                 ("staff",), state="in_progress", route="line:14", stop="stop_point:SP_A"),
    IncidentSpec("t2", "operator", "31555", paris("2025-11-05 22:10"), "projectile", (),
                 route="line:14", stop="stop_point:SP_A"),
    IncidentSpec("t3", "operator", "31555", paris("2026-01-20 07:45"), "vandalism", (),
                 route="line:2", stop="stop_point:SP_B"),
    IncidentSpec("t4", "operator", "31555", paris("2026-03-01 19:00"), "threat_or_insult_staff",
                 ("staff", "staff", "passenger"), route="line:14"),
    IncidentSpec("t5", "operator", "31555", paris("2025-09-01 12:00"), "vandalism", ("staff",),
                 route="line:14", stop="stop_point:SP_A"),
    IncidentSpec("t6", "operator", "31555", paris("2026-02-10 12:00"), "vandalism", (),
                 withdrawn=True, route="line:14", stop="stop_point:SP_A"),
    IncidentSpec("m1", "other_operator", "13055", paris("2025-12-05 23:30"), "violence_passenger",
                 ("passenger",), state="in_progress", route="line:M1", stop="stop_point:SP_M"),
    IncidentSpec("m2", "other_operator", "13055", paris("2026-02-20 08:15"),
                 "physical_assault_staff", ("staff",), route="line:M1"),
    IncidentSpec("v1", "other_operator", "83137", paris("2026-01-05 18:00"), "theft", (),
                 route="line:U", stop="stop_point:SP_U"),
)  # fmt: skip

# (incident, victim index, created, station, state, slot start, appointment status)
REQUESTS = (
    ("t1", 0, paris("2025-10-10 21:00"), "csp-toulouse", "booked", paris("2025-10-12 10:00"),
     "honoured"),
    ("t4", 0, paris("2026-03-01 20:00"), "csp-toulouse", "booked", paris("2026-03-03 09:00"),
     "missed"),
    ("t4", 1, paris("2026-03-01 20:05"), "csp-toulouse", "declined", None, None),
    ("m2", 0, paris("2026-02-20 09:00"), "csp-marseille", "waiting", None, None),
    ("t5", 0, paris("2025-09-01 13:00"), "csp-toulouse", "booked", paris("2025-09-03 10:00"),
     "honoured"),
)  # fmt: skip


def _victim(kind: str) -> dict[str, Any]:
    if kind == "staff":
        return copy.deepcopy(STAFF_VICTIM)
    return {
        "kind": kind,
        "injury": "minor",
        "contact": {"name": "Agent Fictif", "phone": "06 12 34 56 78"},
    }


@dataclass
class Seeded:
    incident_ids: dict[str, str] = field(default_factory=dict)
    priorities: dict[str, str] = field(default_factory=dict)
    problem_ids: list[str] = field(default_factory=list)


def referent(gpo: str) -> Principal:
    return Principal(role="gpo_referent", scope=gpo, actor=f"test:referent ({gpo})")


def seed(app: Any, db: Database, clock: Clock, tokens: dict[str, dict[str, str]]) -> Seeded:
    seeded = Seeded()
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
        for spec in GPOS:
            gpos.add_gpo(session, spec.code, spec.name, list(spec.services),
                         list(spec.operators), False, spec.created, department=spec.department,
                         status=spec.status, meeting_rhythm=spec.rhythm)  # fmt: skip
    with db.transaction() as session:
        for n, spec in enumerate(PROBLEMS):
            who = referent(spec.gpo)
            problem = problems.create_problem(
                session,
                who,
                spec.gpo,
                {"title": f"Problème {n}", "scope": SCOPES.get(n, {})},
                spec.created,
            )
            seeded.problem_ids.append(problem.id)
            for at, to, reason in spec.moves:
                problems.transition(session, who, problem.id, to, reason, at)
        for gpo, index, at in JOURNAL_MEETINGS:
            problems.add_journal_entry(
                session,
                referent(gpo),
                seeded.problem_ids[index],
                {"kind": "meeting", "text": "Réunion du GPO.", "at": at},
                at,
            )
        for gpo, planned, status in MEETINGS:
            session.add(
                GpoMeeting(
                    id=str(uuid.uuid4()),
                    gpo_code=gpo,
                    planned_at=planned,
                    place="Hôtel de police",
                    status=status,
                    held_at=planned + dt.timedelta(minutes=5) if status == "held" else None,
                    agenda=[],
                    agenda_sent_at=None,
                    reminded_at=None,
                    minutes=None,
                    created_at=planned - dt.timedelta(days=10),
                    created_by="test",
                    updated_at=planned,
                    version=1,
                )
            )
    with db.transaction() as session:
        operators = {o.code: o.id for o in session.scalars(select(Operator))}
        for operator, route_id, name in ROUTES:
            session.add(GtfsRoute(operator_id=operators[operator], route_id=route_id,
                                  short_name=name, long_name="", route_type=3))  # fmt: skip
        for operator, stop_id, name, lat, lon, parent in STOPS:
            session.add(GtfsStop(operator_id=operators[operator], stop_id=stop_id, name=name,
                                 lat=lat, lon=lon, location_type=0, parent_station=parent,
                                 insee_code=None))  # fmt: skip
    client = app.test_client()
    saved = clock.now
    for number, spec in enumerate(INCIDENTS):
        clock.now = spec.occurred + dt.timedelta(minutes=20)
        sheet = a_sheet(
            f"OV-{number:03d}",
            occurred_at=spec.occurred.isoformat(),
            state=spec.state,
            natures=[spec.nature],
            primary_nature=spec.nature,
            victims=[_victim(kind) for kind in spec.victims],
            video={"exists": "no"},
        )
        sheet["location"]["insee_code"] = spec.insee
        sheet["location"]["coordinates"].update(COORDINATES[spec.insee])
        sheet["location"]["route_id"] = spec.route
        if spec.stop is None:
            del sheet["location"]["stop_id"]
        else:
            sheet["location"]["stop_id"] = spec.stop
        response = client.post("/api/v1/incidents", json=sheet, headers=tokens[spec.operator])
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        seeded.incident_ids[spec.key] = body["id"]
        seeded.priorities[spec.key] = body["priority"]
        if spec.withdrawn:
            withdrawn = client.post(
                f"/api/v1/incidents/{body['id']}/withdrawal",
                json={"reason": "Envoyée par erreur."},
                headers=tokens[spec.operator],
            )
            assert withdrawn.status_code == 200, withdrawn.get_json()
    clock.now = saved
    add_station(db, saved, "csp-toulouse")
    add_station(db, saved, "csp-marseille", insee_code="13055", name="Commissariat de Marseille")
    for key, victim, created, station, state, starts, status in REQUESTS:
        request_id = add_request(
            db, seeded.incident_ids[key], created, station_code=station, state=state,
            victim_index=victim,
        )  # fmt: skip
        if starts is not None and status is not None:
            slot = add_slot(db, station, starts)
            book(db, request_id, slot, created, status=status)
    return seeded
