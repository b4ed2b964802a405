"""Emerging problems: clusters of like incidents of a GPO that no open problem covers,
and opening a problem from one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal
from intake_service.gpo.incident_facts import facts_of_many, gpo_covers, gpo_incidents
from intake_service.gpo.links import gpo_to_manage, incident_summary, link
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.gpo.rules.clusters import ClusterSettings, cluster_place, clusters
from intake_service.intake.rules import natures
from intake_service.models import (
    GtfsStop,
    Incident,
    Problem,
    ProblemLink,
)
from intake_service.platform.errors import NotFound, Refused

# Link states that put an incident "in" a problem (for emerging clusters: covered).
ACTIVE_LINK_STATES = ("proposed", "confirmed")


def _settings(settings: Any) -> ClusterSettings:
    if isinstance(settings, ClusterSettings):
        return settings
    return ClusterSettings(
        radius_m=float(settings.cluster_radius_metres),
        min_incidents=int(settings.cluster_min_incidents),
        window=settings.cluster_window,
    )


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


def emerging(
    session: Session, principal: Principal, gpo_code: str, now: dt.datetime, settings: Any
) -> list[dict[str, Any]]:
    """Clusters of like incidents of the GPO no linkable problem covers, largest first."""
    gpo = gpo_to_manage(session, principal, gpo_code)
    config = _settings(settings)
    incidents = gpo_incidents(session, gpo, now - config.window, now + dt.timedelta(minutes=5))
    covered = _covered_incident_ids(session, [i.id for i in incidents])
    incidents = [i for i in incidents if i.id not in covered]
    by_id = {i.id: i for i in incidents}
    facts = facts_of_many(session, incidents)
    suggestions: list[dict[str, Any]] = []
    for family, members in clusters(facts, config):
        stop_ids, point = cluster_place(members, config.radius_m)
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
                "family_label": natures.FAMILY_LABELS[family],
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
    from intake_service.gpo import problems  # the problems' use cases (imported late: no cycle)

    gpo = gpo_to_manage(session, principal, gpo_code)
    if family not in natures.NATURE_FAMILIES:
        raise Refused(None, f"Famille inconnue : {family}.")
    found = session.scalars(select(Incident).where(Incident.id.in_(set(incident_ids)))).all()
    if len(found) != len(set(incident_ids)) or not found:
        raise NotFound("incident")
    if any(not gpo_covers(gpo, incident) for incident in found):
        raise NotFound("incident")
    facts = facts_of_many(session, found)
    operators = {f.operator for f in facts}
    stop_ids, point = cluster_place(facts, _settings(settings).radius_m)
    if not stop_ids and point is None:
        raise Refused(None, "Les incidents n'ont ni arrêt commun ni coordonnées.")
    operator = sorted(operators)[0]
    scope: dict[str, Any] = {
        "operators": sorted(operators),
        "routes": [],
        "stops": [{"operator": operator, "stop_id": stop_id} for stop_id in stop_ids],
        "point": point,
        "natures": list(natures.NATURE_FAMILIES[family]),
        "weekdays": [],
        "hours": None,
    }
    summary = incident_summary(session, found[0])
    place = summary["stop_name"] or "secteur"
    label = natures.FAMILY_LABELS[family]
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
