"""The linker: proposes to link each submitted or amended incident to the GPO problems
it fits (the ``internal.linker`` consumer calls ``relink_incident``).

It reads the incident's current state, finds the candidate problems through the scope
index (``ProblemScopeKey``), checks each candidate's full scope (``gpo_scope.match``)
and proposes a link with the reasons.

Who owns a link row: the linker owns the rows no person decided (``decided_by`` empty or
``linker``); it may propose them, update their reasons, confirm strong matches when the
GPO asked for it, and withdraw them when an amendment takes the incident out of scope.
A person's decision (confirm, reject, manual link, unlink) is never changed by the
linker. One row per (problem, incident): re-applying an event changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.gpo.incident_facts import facts_of, gpo_covers
from intake_service.gpo.journal import write_entry
from intake_service.gpo.links import key_names
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.gpo.rules import scope as gpo_scope
from intake_service.gpo.rules.scope import IncidentFacts
from intake_service.models import (
    Gpo,
    Incident,
    Problem,
    ProblemLink,
    ProblemScopeKey,
)
from intake_service.platform.clock import utc_now

LINKER = "linker"


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
    names = key_names(session, incident, facts)
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


def _owned_by_linker(link: ProblemLink) -> bool:
    return link.decided_by in (None, LINKER)


def _reopen_if_watched(
    session: Session, problem: Problem, incident: Incident, now: dt.datetime
) -> None:
    if problem.state != "watch":
        return
    if problem.watch_until is not None and now >= problem.watch_until:
        return
    from intake_service.gpo import problems  # the problems' use cases (imported late: no cycle)

    problem.state = problem_lifecycle.REOPENED_STATE
    problem.watch_until = None
    problem.updated_at = now
    problem.version += 1
    write_entry(
        session,
        problem.id,
        LINKER,
        "state_change",
        "Rouvert : un nouvel incident dans le périmètre pendant la surveillance.",
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
                write_entry(
                    session,
                    problem.id,
                    LINKER,
                    "link",
                    "Incident lié automatiquement (même arrêt, même nature).",
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
        write_entry(
            session,
            problem_id,
            LINKER,
            "link",
            "Proposition retirée : après modification, l'incident ne correspond plus au périmètre."
            if incident.status != "withdrawn"
            else "Proposition retirée : la fiche a été retirée par l'exploitant.",
            now,
            {"incident_id": incident.id, "state": "rejected"},
        )


def relink_incident(session: Session, incident_id: str, now: dt.datetime | None = None) -> None:
    """Relink the incident an event names, from its current state (the worker's handler)."""
    # One linker at a time per incident (two events of it applied at once would both
    # insert the same links): lock its row, then read its current state.
    locked = session.scalar(select(Incident.id).where(Incident.id == incident_id).with_for_update())
    incident = session.get(Incident, incident_id) if locked is not None else None
    if incident is None:
        return
    session.refresh(incident)
    relink(session, incident, now or utc_now())
