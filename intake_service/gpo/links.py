"""The referent's decisions on links between incidents and problems (confirm, reject,
link and unlink by hand) and what the pages read of them: proposals, a problem's
links, an incident of the GPO with its links.

Use cases take the caller's session and never commit. A person's decision is never
changed by the linker (``linker``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal, gpo_of, may
from intake_service.gpo import brief
from intake_service.gpo.incident_facts import facts_of, gpo_covers
from intake_service.gpo.journal import write_entry
from intake_service.gpo.problems import get_problem
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.gpo.rules import scope as gpo_scope
from intake_service.gpo.rules.scope import IncidentFacts
from intake_service.models import (
    Gpo,
    GtfsRoute,
    GtfsStop,
    Incident,
    Problem,
    ProblemLink,
)
from intake_service.platform.errors import Forbidden, NotFound, Refused


def key_names(session: Session, incident: Incident, facts: IncidentFacts) -> dict[str, str]:
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


# --- the referent's decisions ---------------------------------------------------------------


def _problem_for(session: Session, principal: Principal, problem_id: str, action: str) -> Problem:
    """The problem of the caller's GPO, if the caller's role may ``action`` (else Forbidden)."""
    if not may(principal, action):
        raise Forbidden(action)
    return get_problem(session, principal, problem_id)


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
    write_entry(session, problem.id, principal.actor, "link", text, now, detail)
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
    problem = _problem_for(session, principal, problem_id, "gpo.manage")
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
    problem = _problem_for(session, principal, problem_id, "gpo.manage")
    link = _link_of(session, problem_id, incident_id)
    if link is None:
        raise NotFound(incident_id)
    if link.state != "proposed":
        raise Refused(
            None, f"Seule une proposition peut être rejetée (état actuel : {link.state})."
        )
    text = "Proposition rejetée" + (f" : {reason}" if reason else ".")
    return _decide(session, principal, problem, link, "rejected", text, now, reason)


def link(
    session: Session, principal: Principal, problem_id: str, incident_id: str, now: dt.datetime
) -> ProblemLink:
    """The referent links an incident of the GPO's services/operators by hand."""
    problem = _problem_for(session, principal, problem_id, "gpo.manage")
    incident = session.get(Incident, incident_id)
    gpo = session.get(Gpo, problem.gpo_code)
    if incident is None or gpo is None or not gpo_covers(gpo, incident):
        raise NotFound(incident_id)
    existing = _link_of(session, problem_id, incident_id)
    if existing is None:
        facts = facts_of(session, incident)
        reasons = gpo_scope.match(problem.scope, facts, key_names(session, incident, facts)) or []
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
    problem = _problem_for(session, principal, problem_id, "gpo.manage")
    existing = _link_of(session, problem_id, incident_id)
    if existing is None:
        raise NotFound(incident_id)
    if existing.state != "confirmed":
        raise Refused(
            None, f"Seul un incident lié peut être délié (état actuel : {existing.state})."
        )
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


def partner_incident_document(session: Session, incident: Incident) -> dict[str, Any]:
    """A linked incident as the partners' brief gives it (``brief.PartnerIncident``)."""
    found = brief.partner_incident(session, incident)
    return {"occurred_on": found.occurred_on, "stop": found.stop, "natures": list(found.natures)}


def link_document(session: Session, link: ProblemLink) -> dict[str, Any]:
    """A link with its problem's title and its incident's summary."""
    problem = session.get(Problem, link.problem_id)
    incident = session.get(Incident, link.incident_id)
    if problem is None or incident is None:  # foreign keys: cannot happen
        raise NotFound(link.incident_id)
    return {**_link_document(session, link, incident), "problem_title": problem.title}


def gpo_to_manage(session: Session, principal: Principal, gpo_code: str) -> Gpo:
    if not may(principal, "gpo.manage"):
        raise Forbidden("gpo.manage")
    gpo = session.get(Gpo, gpo_code)
    if gpo is None or gpo_code != gpo_of(principal):
        raise NotFound(gpo_code)
    return gpo


def proposals(session: Session, principal: Principal, gpo_code: str) -> list[dict[str, Any]]:
    """The GPO's proposals waiting for the referent, oldest first, with the problem."""
    gpo_to_manage(session, principal, gpo_code)
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
    problem = _problem_for(session, principal, problem_id, "gpo.read")
    query = (
        select(ProblemLink, Incident)
        .join(Incident, Incident.id == ProblemLink.incident_id)
        .where(ProblemLink.problem_id == problem.id)
        .order_by(Incident.occurred_at, Incident.id)
    )
    if not may(principal, "gpo.manage"):
        # A partner: the confirmed links, each incident as the partners' brief gives it
        # (the Paris day, the stop, the natures), never its id, time, line or reasons.
        return [
            {
                "problem_id": problem.id,
                "problem_title": problem.title,
                "state": link.state,
                "incident": partner_incident_document(session, incident),
            }
            for link, incident in session.execute(
                query.where(ProblemLink.state == "confirmed")
            ).all()
        ]
    return [
        {**_link_document(session, link, incident), "problem_title": problem.title}
        for link, incident in session.execute(query).all()
    ]
