"""Linking incidents to GPO problems: proposals, decisions, emerging problems.

Use cases: each takes the caller's session and never commits. The ``internal.linker``
consumer calls ``apply_event`` for every ``incident.submitted`` / ``incident.amended``:
it reads the incident's current state, finds the candidate problems through the scope
index (``ProblemScopeKey``), checks each candidate's full scope (``gpo_scope.match``) and
proposes a link with the reasons. The referent confirms or rejects proposals, or links
and unlinks by hand.

Who owns a link row: the linker owns the rows no person decided (``decided_by`` empty or
``linker``); it may propose them, update their reasons, confirm strong matches when the
GPO asked for it, and withdraw them when an amendment takes the incident out of scope.
A person's decision (confirm, reject, manual link, unlink) is never changed by the
linker. One row per (problem, incident): re-applying an event changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake_service import audit, gpo_scope, problem_lifecycle
from intake_service.access import Principal, gpo_of, may
from intake_service.gpo_scope import IncidentFacts
from intake_service.models import (
    Gpo,
    GtfsRoute,
    GtfsStop,
    Incident,
    Operator,
    Problem,
    ProblemJournalEntry,
    ProblemLink,
    ProblemScopeKey,
)

LINKER = "linker"
# Link states that put an incident "in" a problem (for emerging clusters: covered).
ACTIVE_LINK_STATES = ("proposed", "confirmed")
# The largest radius a scope may have (schemas/gpo.py).
MAX_RADIUS_M = 5000


class NotFound(LookupError):
    """No such problem, incident or link in the caller's scope (404)."""


class Forbidden(PermissionError):
    """The caller's role may not do this (403)."""


@dataclass
class Refused(Exception):
    """The change does not apply to the link's current state (409)."""

    message: str


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


def _names(session: Session, incident: Incident, facts: IncidentFacts) -> dict[str, str]:
    """French names of the incident's stops and route by index key, for reasons."""
    names: dict[str, str] = {}
    if facts.stop_ids:
        for stop in session.scalars(
            select(GtfsStop).where(
                GtfsStop.operator_id == incident.operator_id,
                GtfsStop.stop_id.in_(facts.stop_ids),
            )
        ):
            names[gpo_scope.stop_key(facts.operator, stop.stop_id)] = stop.name
    if facts.route_id:
        route = session.get(GtfsRoute, (incident.operator_id, facts.route_id))
        if route is not None:
            names[gpo_scope.route_key(facts.operator, facts.route_id)] = (
                route.short_name or route.long_name
            )
    return names


# --- the matcher ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A problem found in the index: what matching needs, without loading the whole row."""

    id: str
    gpo_code: str
    state: str
    scope: dict[str, Any]


def candidate_problems(session: Session, keys: Iterable[str]) -> list[Candidate]:
    """The problems indexed under any of ``keys`` (the index holds linkable ones only),
    oldest first."""
    ids = select(ProblemScopeKey.problem_id).where(ProblemScopeKey.key.in_(set(keys)))
    rows = session.execute(
        select(Problem.id, Problem.gpo_code, Problem.state, Problem.scope)
        .where(Problem.id.in_(ids))
        .order_by(Problem.created_at, Problem.id)
    ).all()
    return [Candidate(*row) for row in rows]


def matching_problems(
    session: Session, incident: Incident, facts: IncidentFacts
) -> list[tuple[Problem, list[dict[str, str]]]]:
    """The linkable problems whose GPO covers the incident and whose scope it fits."""
    names = _names(session, incident, facts)
    covers: dict[str, bool] = {}
    found = []
    for candidate in candidate_problems(session, gpo_scope.incident_keys(facts)):
        if candidate.state not in problem_lifecycle.LINKABLE_STATES:
            continue
        if candidate.gpo_code not in covers:
            gpo = session.get(Gpo, candidate.gpo_code)
            covers[candidate.gpo_code] = gpo is not None and gpo_covers(gpo, incident)
        if not covers[candidate.gpo_code]:
            continue
        reasons = gpo_scope.match(candidate.scope, facts, names)
        if reasons is not None:
            problem = session.get(Problem, candidate.id)
            if problem is not None:
                found.append((problem, reasons))
    return found


def _journal(
    session: Session,
    problem_id: str,
    kind: str,
    text: str,
    author: str,
    now: dt.datetime,
    detail: Mapping[str, Any],
) -> None:
    session.add(
        ProblemJournalEntry(
            problem_id=problem_id, at=now, kind=kind, text=text, author=author, detail=dict(detail)
        )
    )


def _owned_by_linker(link: ProblemLink) -> bool:
    return link.decided_by in (None, LINKER)


def _reopen_if_watched(
    session: Session, problem: Problem, incident: Incident, now: dt.datetime
) -> None:
    if problem.state != "watch":
        return
    if problem.watch_until is not None and now >= problem.watch_until:
        return
    from intake_service import problems  # the problems' use cases (imported late: no cycle)

    problem.state = problem_lifecycle.REOPENED_STATE
    problem.watch_until = None
    problem.updated_at = now
    problem.version += 1
    _journal(
        session,
        problem.id,
        "state_change",
        "Rouvert : un nouvel incident dans le périmètre pendant la surveillance.",
        LINKER,
        now,
        {"from": "watch", "to": problem.state, "incident_id": incident.id},
    )
    problems.reindex(session, problem)


def relink(session: Session, incident: Incident, now: dt.datetime) -> None:
    """Bring the incident's links in line with its current facts and the open scopes."""
    links = {
        link.problem_id: link
        for link in session.scalars(
            select(ProblemLink).where(ProblemLink.incident_id == incident.id)
        )
    }
    matches: list[tuple[Problem, list[dict[str, str]]]] = []
    if incident.status != "withdrawn":
        matches = matching_problems(session, incident, facts_of(session, incident))
    matched_ids = set()
    for problem, reasons in matches:
        matched_ids.add(problem.id)
        strong = gpo_scope.is_strong(reasons)
        gpo = session.get(Gpo, problem.gpo_code)
        auto = strong and gpo is not None and gpo.auto_confirm_strong
        link = links.get(problem.id)
        if link is None:
            link = ProblemLink(
                problem_id=problem.id,
                incident_id=incident.id,
                state="confirmed" if auto else "proposed",
                origin="automatic" if auto else "matcher",
                reasons=reasons,
                strong=strong,
                created_at=now,
                decided_at=now if auto else None,
                decided_by=LINKER if auto else None,
            )
            session.add(link)
            if auto:
                _journal(
                    session,
                    problem.id,
                    "link",
                    "Incident lié automatiquement (même arrêt, même nature).",
                    LINKER,
                    now,
                    {"incident_id": incident.id, "state": "confirmed"},
                )
            _reopen_if_watched(session, problem, incident, now)
            continue
        if not _owned_by_linker(link):
            continue  # a person decided: never changed
        if link.state == "rejected":
            # Withdrawn earlier by the linker; the incident fits again.
            link.state, link.origin = (
                ("confirmed", "automatic") if auto else ("proposed", "matcher")
            )
            link.decided_at = now if auto else None
            link.decided_by = LINKER if auto else None
            _reopen_if_watched(session, problem, incident, now)
        link.reasons = reasons
        link.strong = strong
    for problem_id, link in links.items():
        if problem_id in matched_ids or not _owned_by_linker(link) or link.state == "rejected":
            continue
        linked = session.get(Problem, problem_id)
        if linked is None or linked.state not in problem_lifecycle.LINKABLE_STATES:
            continue
        link.state = "rejected"
        link.decided_at = now
        link.decided_by = LINKER
        _journal(
            session,
            problem_id,
            "link",
            "Proposition retirée : après modification, l'incident ne correspond plus au périmètre."
            if incident.status != "withdrawn"
            else "Proposition retirée : la fiche a été retirée par l'exploitant.",
            LINKER,
            now,
            {"incident_id": incident.id, "state": "rejected"},
        )


def apply_event(
    session: Session, envelope: Mapping[str, Any], now: dt.datetime | None = None
) -> None:
    """The ``internal.linker`` consumer's handler: relink the incident the event names."""
    incident_id = str(envelope["payload"]["incident"]["id"])
    # One linker at a time per incident (two events of it applied at once would both
    # insert the same links): lock its row, then read its current state.
    locked = session.scalar(select(Incident.id).where(Incident.id == incident_id).with_for_update())
    incident = session.get(Incident, incident_id) if locked is not None else None
    if incident is None:
        return
    session.refresh(incident)
    relink(session, incident, now or utc_now())


# --- the referent's decisions ---------------------------------------------------------------


def _problem_to_manage(session: Session, principal: Principal, problem_id: str) -> Problem:
    if not may(principal, "gpo.manage"):
        raise Forbidden("gpo.manage")
    problem = session.get(Problem, problem_id)
    if problem is None or problem.gpo_code != gpo_of(principal):
        raise NotFound(problem_id)
    return problem


def _problem_to_read(session: Session, principal: Principal, problem_id: str) -> Problem:
    if not may(principal, "gpo.read"):
        raise Forbidden("gpo.read")
    problem = session.get(Problem, problem_id)
    if problem is None or problem.gpo_code != gpo_of(principal):
        raise NotFound(problem_id)
    return problem


def _link_of(session: Session, problem_id: str, incident_id: str) -> ProblemLink | None:
    return session.scalar(
        select(ProblemLink).where(
            ProblemLink.problem_id == problem_id, ProblemLink.incident_id == incident_id
        )
    )


def _decide(
    session: Session,
    principal: Principal,
    problem: Problem,
    link: ProblemLink,
    state: str,
    text: str,
    now: dt.datetime,
    reason: str | None = None,
) -> ProblemLink:
    previous = link.state
    link.state = state
    link.decided_at = now
    link.decided_by = principal.actor[:200]
    detail: dict[str, Any] = {"incident_id": link.incident_id, "from": previous, "state": state}
    if reason:
        detail["reason"] = reason
    _journal(session, problem.id, "link", text, principal.actor[:200], now, detail)
    audit.record(
        session,
        principal,
        f"problem_link.{state}",
        "problem",
        problem.id,
        now=now,
        detail={"incident_id": link.incident_id, "from": previous},
    )
    return link


def confirm(
    session: Session, principal: Principal, problem_id: str, incident_id: str, now: dt.datetime
) -> ProblemLink:
    """The referent confirms a proposal (or a link it had rejected)."""
    problem = _problem_to_manage(session, principal, problem_id)
    link = _link_of(session, problem_id, incident_id)
    if link is None:
        raise NotFound(incident_id)
    if link.state == "confirmed":
        return link
    return _decide(session, principal, problem, link, "confirmed", "Lien confirmé.", now)


def reject(
    session: Session,
    principal: Principal,
    problem_id: str,
    incident_id: str,
    reason: str | None,
    now: dt.datetime,
) -> ProblemLink:
    """The referent rejects a proposal: the linker will not propose it again."""
    problem = _problem_to_manage(session, principal, problem_id)
    link = _link_of(session, problem_id, incident_id)
    if link is None:
        raise NotFound(incident_id)
    if link.state != "proposed":
        raise Refused(f"Seule une proposition peut être rejetée (état actuel : {link.state}).")
    text = "Proposition rejetée" + (f" : {reason}" if reason else ".")
    return _decide(session, principal, problem, link, "rejected", text, now, reason)


def link(
    session: Session, principal: Principal, problem_id: str, incident_id: str, now: dt.datetime
) -> ProblemLink:
    """The referent links an incident of the GPO's services/operators by hand."""
    problem = _problem_to_manage(session, principal, problem_id)
    incident = session.get(Incident, incident_id)
    gpo = session.get(Gpo, problem.gpo_code)
    if incident is None or gpo is None or not gpo_covers(gpo, incident):
        raise NotFound(incident_id)
    existing = _link_of(session, problem_id, incident_id)
    if existing is None:
        facts = facts_of(session, incident)
        reasons = gpo_scope.match(problem.scope, facts, _names(session, incident, facts)) or []
        existing = ProblemLink(
            problem_id=problem_id,
            incident_id=incident_id,
            state="proposed",
            origin="manual",
            reasons=reasons or [{"dimension": "manual", "text": "lié à la main"}],
            strong=gpo_scope.is_strong(reasons),
            created_at=now,
        )
        session.add(existing)
        session.flush()
    elif existing.state == "confirmed":
        return existing
    return _decide(
        session, principal, problem, existing, "confirmed", "Incident lié à la main.", now
    )


def unlink(
    session: Session, principal: Principal, problem_id: str, incident_id: str, now: dt.datetime
) -> ProblemLink:
    """The referent takes a linked incident out of the problem."""
    problem = _problem_to_manage(session, principal, problem_id)
    existing = _link_of(session, problem_id, incident_id)
    if existing is None:
        raise NotFound(incident_id)
    if existing.state != "confirmed":
        raise Refused(f"Seul un incident lié peut être délié (état actuel : {existing.state}).")
    return _decide(session, principal, problem, existing, "unlinked", "Incident délié.", now)


# --- what the referent sees -----------------------------------------------------------------


def incident_summary(
    session: Session, incident: Incident, facts: IncidentFacts | None = None
) -> dict[str, Any]:
    """An incident in the queue: time, place by name, natures, priority. No personal data."""
    location = incident.sheet.get("location") or {}
    stop_name = route_name = None
    if location.get("stop_id"):
        stop = session.get(GtfsStop, (incident.operator_id, location["stop_id"]))
        stop_name = stop.name if stop is not None else location["stop_id"]
    if location.get("route_id"):
        route = session.get(GtfsRoute, (incident.operator_id, location["route_id"]))
        route_name = (route.short_name or route.long_name) if route is not None else None
        route_name = route_name or location["route_id"]
    return {
        "id": incident.id,
        "operator": incident.operator.code,
        "occurred_at": incident.occurred_at,
        "stop_id": location.get("stop_id"),
        "stop_name": stop_name,
        "route_id": location.get("route_id"),
        "route_name": route_name,
        "place": location.get("place"),
        "natures": list(incident.sheet.get("natures") or [incident.primary_nature]),
        "primary_nature": incident.primary_nature,
        "priority": incident.priority,
        "status": incident.status,
    }


def read_incident(
    session: Session, principal: Principal, gpo_code: str, incident_id: str, now: dt.datetime
) -> Incident:
    """An incident of the GPO's services or operators, with its narrative and names, for
    the referent (``gpo.read_incidents``): audited."""
    if not may(principal, "gpo.read_incidents"):
        raise Forbidden("gpo.read_incidents")
    gpo = session.get(Gpo, gpo_code)
    incident = session.get(Incident, incident_id)
    if (
        gpo is None
        or gpo_code != gpo_of(principal)
        or incident is None
        or not gpo_covers(gpo, incident)
    ):
        raise NotFound(incident_id)
    audit.record(
        session,
        principal,
        "incident.read",
        "incident",
        incident.id,
        now=now,
        detail={"via": "gpo", "gpo": gpo_code},
    )
    return incident


def links_of_incident(session: Session, gpo_code: str, incident_id: str) -> list[dict[str, Any]]:
    """The incident's links to the GPO's problems (any state), oldest first."""
    rows = session.execute(
        select(ProblemLink, Problem.title)
        .join(Problem, Problem.id == ProblemLink.problem_id)
        .where(ProblemLink.incident_id == incident_id, Problem.gpo_code == gpo_code)
        .order_by(ProblemLink.created_at, ProblemLink.id)
    ).all()
    return [
        {
            "problem_id": link.problem_id,
            "problem_title": title,
            "state": link.state,
            "reasons": list(link.reasons),
        }
        for link, title in rows
    ]


def _link_document(session: Session, link: ProblemLink, incident: Incident) -> dict[str, Any]:
    return {
        "problem_id": link.problem_id,
        "incident_id": link.incident_id,
        "state": link.state,
        "origin": link.origin,
        "reasons": list(link.reasons),
        "strong": link.strong,
        "created_at": link.created_at,
        "decided_at": link.decided_at,
        "decided_by": link.decided_by,
        "incident": incident_summary(session, incident),
    }


def link_document(session: Session, link: ProblemLink) -> dict[str, Any]:
    """A link with its problem's title and its incident's summary."""
    problem = session.get(Problem, link.problem_id)
    incident = session.get(Incident, link.incident_id)
    if problem is None or incident is None:  # foreign keys: cannot happen
        raise NotFound(link.incident_id)
    return {**_link_document(session, link, incident), "problem_title": problem.title}


def _gpo_to_manage(session: Session, principal: Principal, gpo_code: str) -> Gpo:
    if not may(principal, "gpo.manage"):
        raise Forbidden("gpo.manage")
    gpo = session.get(Gpo, gpo_code)
    if gpo is None or gpo_code != gpo_of(principal):
        raise NotFound(gpo_code)
    return gpo


def proposals(session: Session, principal: Principal, gpo_code: str) -> list[dict[str, Any]]:
    """The GPO's proposals waiting for the referent, oldest first, with the problem."""
    _gpo_to_manage(session, principal, gpo_code)
    rows = session.execute(
        select(ProblemLink, Problem, Incident)
        .join(Problem, Problem.id == ProblemLink.problem_id)
        .join(Incident, Incident.id == ProblemLink.incident_id)
        .where(
            Problem.gpo_code == gpo_code,
            Problem.state.in_(sorted(problem_lifecycle.LINKABLE_STATES)),
            ProblemLink.state == "proposed",
        )
        .order_by(ProblemLink.created_at, ProblemLink.id)
    ).all()
    return [
        {**_link_document(session, link, incident), "problem_title": problem.title}
        for link, problem, incident in rows
    ]


def problem_links(session: Session, principal: Principal, problem_id: str) -> list[dict[str, Any]]:
    """A problem's links: all of them for the referent, the confirmed ones for a partner."""
    problem = _problem_to_read(session, principal, problem_id)
    query = (
        select(ProblemLink, Incident)
        .join(Incident, Incident.id == ProblemLink.incident_id)
        .where(ProblemLink.problem_id == problem.id)
        .order_by(Incident.occurred_at, Incident.id)
    )
    if not may(principal, "gpo.manage"):
        query = query.where(ProblemLink.state == "confirmed")
    return [
        {**_link_document(session, link, incident), "problem_title": problem.title}
        for link, incident in session.execute(query).all()
    ]


# --- emerging problems ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterSettings:
    radius_m: float
    min_incidents: int
    window: dt.timedelta


def _settings(settings: Any) -> ClusterSettings:
    if isinstance(settings, ClusterSettings):
        return settings
    return ClusterSettings(
        radius_m=float(settings.cluster_radius_metres),
        min_incidents=int(settings.cluster_min_incidents),
        window=settings.cluster_window,
    )


def _near(a: IncidentFacts, b: IncidentFacts, radius_m: float) -> bool:
    if a.operator == b.operator and a.stop_ids & b.stop_ids:
        return True
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return False
    return gpo_scope.haversine_m(a.lat, a.lon, b.lat, b.lon) <= radius_m


def _covered_incident_ids(session: Session, incident_ids: Sequence[str]) -> set[str]:
    """The incidents proposed for or linked to a linkable problem."""
    if not incident_ids:
        return set()
    rows = session.scalars(
        select(ProblemLink.incident_id)
        .join(Problem, Problem.id == ProblemLink.problem_id)
        .where(
            ProblemLink.incident_id.in_(list(incident_ids)),
            ProblemLink.state.in_(ACTIVE_LINK_STATES),
            Problem.state.in_(sorted(problem_lifecycle.LINKABLE_STATES)),
        )
    )
    return set(rows)


def _cluster_place(
    members: Sequence[IncidentFacts], radius_m: float
) -> tuple[list[str], dict[str, Any] | None]:
    """The stop all members share (parent station first), else a point and radius."""
    common = frozenset.intersection(*(m.stop_ids for m in members))
    operators = {m.operator for m in members}
    if common and len(operators) == 1:
        return sorted(common), None
    located = [m for m in members if m.lat is not None and m.lon is not None]
    if not located:
        return sorted(common), None
    lat = sum(m.lat for m in located if m.lat is not None) / len(located)
    lon = sum(m.lon for m in located if m.lon is not None) / len(located)
    farthest = max(
        gpo_scope.haversine_m(lat, lon, m.lat, m.lon)
        for m in located
        if m.lat is not None and m.lon is not None
    )
    return [], {
        "lat": round(lat, 6),
        "lon": round(lon, 6),
        "radius_m": int(min(MAX_RADIUS_M, max(radius_m, math.ceil(farthest) + 1))),
    }


def _neighbours(pool: Sequence[IncidentFacts], radius_m: float) -> list[set[int]]:
    """For each incident of ``pool``, the indexes of those near it (itself included):
    same stop, or within the radius (looked up in a grid of cells about the radius)."""
    cell_lat = max(radius_m, 1.0) / 111_000
    by_stop: dict[tuple[str, str], list[int]] = {}
    by_cell: dict[tuple[int, int], list[int]] = {}
    cells: list[tuple[int, int] | None] = []
    for index, facts in enumerate(pool):
        for stop_id in facts.stop_ids:
            by_stop.setdefault((facts.operator, stop_id), []).append(index)
        if facts.lat is None or facts.lon is None:
            cells.append(None)
            continue
        # Longitude cells as wide as latitude ones at 60°: wider than the radius in France.
        cell = (math.floor(facts.lat / cell_lat), math.floor(facts.lon / (2 * cell_lat)))
        cells.append(cell)
        by_cell.setdefault(cell, []).append(index)
    found: list[set[int]] = []
    for index, facts in enumerate(pool):
        near = {index}
        for stop_id in facts.stop_ids:
            near.update(by_stop[(facts.operator, stop_id)])
        own = cells[index]
        if own is not None:
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    for other in by_cell.get((own[0] + dy, own[1] + dx), ()):
                        if other not in near and _near(facts, pool[other], radius_m):
                            near.add(other)
        found.append(near)
    return found


def clusters(
    facts: Sequence[IncidentFacts], settings: ClusterSettings
) -> list[tuple[str, list[IncidentFacts]]]:
    """Groups of like incidents (same family, same stop or within the radius).

    Greedy: the incident with the most neighbours left seeds a cluster of itself and
    those neighbours; they are taken out and the next seed is looked for.
    """
    found: list[tuple[str, list[IncidentFacts]]] = []
    for family in gpo_scope.NATURE_FAMILIES:
        pool = [f for f in facts if family in gpo_scope.family_of(f.natures)]
        neighbours = _neighbours(pool, settings.radius_m)
        left = set(range(len(pool)))
        while len(left) >= settings.min_incidents:
            seed = max(sorted(left), key=lambda i: len(neighbours[i] & left))
            members = neighbours[seed] & left
            if len(members) < settings.min_incidents:
                break
            chosen = sorted(
                (pool[i] for i in members), key=lambda f: (f.occurred_at, f.incident_id)
            )
            found.append((family, chosen))
            left -= members
    return found


def emerging(
    session: Session, principal: Principal, gpo_code: str, now: dt.datetime, settings: Any
) -> list[dict[str, Any]]:
    """Clusters of like incidents of the GPO no linkable problem covers, largest first."""
    gpo = _gpo_to_manage(session, principal, gpo_code)
    config = _settings(settings)
    incidents = gpo_incidents(session, gpo, now - config.window, now + dt.timedelta(minutes=5))
    covered = _covered_incident_ids(session, [i.id for i in incidents])
    incidents = [i for i in incidents if i.id not in covered]
    by_id = {i.id: i for i in incidents}
    facts = facts_of_many(session, incidents)
    suggestions: list[dict[str, Any]] = []
    for family, members in clusters(facts, config):
        stop_ids, point = _cluster_place(members, config.radius_m)
        operator = members[0].operator
        first_incident = by_id[members[0].incident_id]
        names = [
            stop.name
            for stop in session.scalars(
                select(GtfsStop).where(
                    GtfsStop.operator_id == first_incident.operator_id,
                    GtfsStop.stop_id.in_(stop_ids),
                )
            )
        ]
        summaries = [incident_summary(session, by_id[m.incident_id]) for m in members]
        if stop_ids:
            place_label = ", ".join(sorted(set(names))) or ", ".join(stop_ids)
        elif point is not None:
            around = summaries[0]["stop_name"] or f"{point['lat']:.5f}, {point['lon']:.5f}"
            place_label = f"rayon de {round(point['radius_m'])} m autour de {around}"
        else:
            place_label = ""
        suggestions.append(
            {
                "family": family,
                "family_label": gpo_scope.FAMILY_LABELS[family],
                "operator": operator,
                "stop_ids": stop_ids,
                "point": point,
                "place_label": place_label,
                "count": len(members),
                "first": members[0].occurred_at,
                "last": members[-1].occurred_at,
                "incident_ids": [m.incident_id for m in members],
                "incidents": summaries,
            }
        )
    suggestions.sort(key=lambda s: (-int(s["count"]), s["first"]))
    return suggestions


def create_from_cluster(
    session: Session,
    principal: Principal,
    gpo_code: str,
    family: str,
    incident_ids: Sequence[str],
    now: dt.datetime,
    settings: Any,
    title: str | None = None,
) -> Problem:
    """Open a problem from a cluster in one step: its scope is the cluster's place and
    family; its incidents are linked (confirmed)."""
    from intake_service import problems  # the problems' use cases (imported late: no cycle)

    gpo = _gpo_to_manage(session, principal, gpo_code)
    if family not in gpo_scope.NATURE_FAMILIES:
        raise Refused(f"Famille inconnue : {family}.")
    found = session.scalars(select(Incident).where(Incident.id.in_(set(incident_ids)))).all()
    if len(found) != len(set(incident_ids)) or not found:
        raise NotFound("incident")
    if any(not gpo_covers(gpo, incident) for incident in found):
        raise NotFound("incident")
    facts = facts_of_many(session, found)
    operators = {f.operator for f in facts}
    stop_ids, point = _cluster_place(facts, _settings(settings).radius_m)
    if not stop_ids and point is None:
        raise Refused("Les incidents n'ont ni arrêt commun ni coordonnées.")
    operator = sorted(operators)[0]
    scope: dict[str, Any] = {
        "operators": sorted(operators),
        "routes": [],
        "stops": [{"operator": operator, "stop_id": stop_id} for stop_id in stop_ids],
        "point": point,
        "natures": list(gpo_scope.NATURE_FAMILIES[family]),
        "weekdays": [],
        "hours": None,
    }
    summary = incident_summary(session, found[0])
    place = summary["stop_name"] or "secteur"
    label = gpo_scope.FAMILY_LABELS[family]
    problem = problems.create_problem(
        session,
        principal,
        gpo_code,
        {
            "title": (title or f"{label.capitalize()} : {place}")[:200],
            "description": (
                f"Ouvert depuis une suggestion : {len(found)} incidents ({label}) "
                f"entre le {min(f.occurred_at for f in facts):%d/%m/%Y} "
                f"et le {max(f.occurred_at for f in facts):%d/%m/%Y}."
            ),
            "scope": scope,
            "partners": [],
        },
        now,
    )
    session.flush()
    for incident in found:
        link(session, principal, problem.id, incident.id, now)
    return problem
