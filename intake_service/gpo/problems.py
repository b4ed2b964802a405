"""GPO problems: create, edit, move through the lifecycle, and their journal.

Use cases take a session and never commit (the entry point owns the transaction).
Who may do what is decided by ``access``: a referent acts on its GPO's problems
only; a partner reads them (problem, actions, the meeting and decision entries of
the journal, never the notes) and marks done the actions its own organisation
owns. A problem or action outside the caller's GPO is ``NotFound`` (404).

Every change bumps the problem's ``version`` with a conditional UPDATE (``WHERE
version = <what the caller saw>``), so two referents editing the same problem
cannot overwrite each other: the second gets ``Conflict`` (409), on SQLite and
PostgreSQL alike, without holding a lock while the page is open.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal, gpo_of
from intake_service.access.rules.redaction import journal_kinds_for
from intake_service.gpo.gpos import partners_of
from intake_service.gpo.journal import write_entry
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.gpo.rules import scope as gpo_scope
from intake_service.models import (
    Gpo,
    Incident,
    Problem,
    ProblemJournalEntry,
    ProblemLink,
    ProblemScopeKey,
)
from intake_service.platform.errors import Conflict, Forbidden, NotFound
from intake_service.platform.preconditions import IfMatch, as_version
from schemas.gpo import ScopeSchema

_scope_schema = ScopeSchema()


class InvalidInput(ValueError):
    """Input the schemas cannot judge alone (a partner not of the GPO): per field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


TransitionRefused = problem_lifecycle.TransitionRefused


# --- problems -----------------------------------------------------------------------------


def scope_document(scope: Mapping[str, Any]) -> dict[str, Any]:
    """The scope as stored (JSON: dates as ISO text), from a loaded or stored scope."""
    loaded = dict(scope)
    if isinstance(loaded.get("start_date"), str):
        loaded["start_date"] = dt.date.fromisoformat(loaded["start_date"])
    document: dict[str, Any] = _scope_schema.dump(loaded)
    return document


def reindex(session: Session, problem: Problem) -> None:
    """Replace the problem's scope keys; a problem that cannot be linked has none."""
    session.execute(delete(ProblemScopeKey).where(ProblemScopeKey.problem_id == problem.id))
    if problem.state in problem_lifecycle.LINKABLE_STATES:
        for key in sorted(gpo_scope.scope_keys(problem.scope)):
            session.add(ProblemScopeKey(key=key, problem_id=problem.id))
    session.flush()


def check_partners(session: Session, gpo_code: str, codes: Iterable[str], field: str) -> None:
    known = {partner.code for partner in partners_of(session, gpo_code)}
    errors = [
        {"field": field, "message": f"{code!r} is not a partner of {gpo_code}."}
        for code in codes
        if code not in known
    ]
    if errors:
        raise InvalidInput(errors)


def _referent_gpo(principal: Principal, gpo_code: str) -> None:
    """A referent acts on its own GPO; anything else is out of scope (404)."""
    if principal.role != "gpo_referent" or gpo_of(principal) != gpo_code:
        raise NotFound(gpo_code)


def create_problem(
    session: Session,
    principal: Principal,
    gpo_code: str,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> Problem:
    """A new problem of the referent's GPO, with its journal entry and its scope indexed."""
    _referent_gpo(principal, gpo_code)
    if session.get(Gpo, gpo_code) is None:
        raise NotFound(gpo_code)
    partners = list(data.get("partners") or [])
    check_partners(session, gpo_code, partners, "partners")
    state = data.get("state") or "reported"
    if state not in problem_lifecycle.INITIAL_STATES:
        raise InvalidInput([{"field": "state", "message": f"A problem cannot start {state}."}])
    problem = Problem(
        id=str(uuid.uuid4()),
        gpo_code=gpo_code,
        title=data["title"].strip(),
        description=data.get("description") or "",
        state=state,
        state_reason=None,
        referent=principal.actor[:200],
        partners=partners,
        scope=scope_document(data.get("scope") or {}),
        watch_until=None,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(problem)
    session.flush()
    write_entry(
        session, problem.id, principal.actor, "state_change", "Problème créé", now, {"to": state}
    )
    reindex(session, problem)
    audit.record(
        session,
        principal,
        "problem.create",
        "problem",
        problem.id,
        now=now,
        detail={"gpo": gpo_code},
    )
    return problem


def get_problem(session: Session, principal: Principal, problem_id: str) -> Problem:
    """The problem if it is of the caller's GPO; NotFound otherwise."""
    gpo = gpo_of(principal)
    problem = session.get(Problem, problem_id) if gpo is not None else None
    if problem is None or problem.gpo_code != gpo:
        raise NotFound(problem_id)
    return problem


def list_problems(
    session: Session,
    principal: Principal,
    gpo_code: str,
    states: Sequence[str] = (),
) -> list[Problem]:
    """The GPO's problems, most recently changed first; ``states`` narrows them."""
    if gpo_of(principal) != gpo_code:
        raise NotFound(gpo_code)
    query = select(Problem).where(Problem.gpo_code == gpo_code)
    if states:
        query = query.where(Problem.state.in_(list(states)))
    return list(session.scalars(query.order_by(Problem.updated_at.desc(), Problem.id)))


def problem_to_change(session: Session, principal: Principal, problem_id: str) -> Problem:
    """The problem for a referent to change: a partner of the GPO may not (Forbidden)."""
    problem = get_problem(session, principal, problem_id)
    if principal.role != "gpo_referent":
        raise Forbidden(problem_id)
    return problem


def _bump(
    session: Session, problem: Problem, expected: int | IfMatch | None, now: dt.datetime
) -> None:
    """Take the next version, if nobody took it since ``expected`` (else Conflict)."""
    version = as_version(expected, problem.version)
    seen = problem.version if version is None else version
    done = session.execute(
        update(Problem)
        .where(Problem.id == problem.id, Problem.version == seen)
        .values(version=seen + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        session.refresh(problem)
        raise Conflict(problem.version)
    # The row changed under the ORM's feet: reload it so the object tells the truth.
    session.refresh(problem)


PROBLEM_FIELDS = ("title", "description", "scope", "partners")


def update_problem(
    session: Session,
    principal: Principal,
    problem_id: str,
    data: Mapping[str, Any],
    now: dt.datetime,
    expected_version: int | IfMatch | None = None,
) -> Problem:
    """Change title, description, scope or partners; the journal says what changed."""
    problem = problem_to_change(session, principal, problem_id)
    changes: dict[str, Any] = {}
    if "title" in data:
        changes["title"] = data["title"].strip()
    if "description" in data:
        changes["description"] = data["description"]
    if "scope" in data:
        changes["scope"] = scope_document(data["scope"])
    if "partners" in data:
        check_partners(session, problem.gpo_code, data["partners"], "partners")
        changes["partners"] = list(data["partners"])
    changed = [
        name
        for name in PROBLEM_FIELDS
        if name in changes and changes[name] != getattr(problem, name)
    ]
    if not changed:
        # Nothing to write; a stale version is still worth telling.
        if as_version(expected_version, problem.version) not in (None, problem.version):
            raise Conflict(problem.version)
        return problem
    _bump(session, problem, expected_version, now)
    for name in changed:
        setattr(problem, name, changes[name])
    session.flush()
    write_entry(
        session,
        problem.id,
        principal.actor,
        "change",
        "Modifié : " + ", ".join(CHANGE_LABELS[name] for name in changed),
        now,
        {"changed": changed},
    )
    if "scope" in changed:
        reindex(session, problem)
    audit.record(
        session,
        principal,
        "problem.update",
        "problem",
        problem.id,
        now=now,
        detail={"changed": changed},
    )
    return problem


CHANGE_LABELS = {
    "title": "titre",
    "description": "description",
    "scope": "périmètre",
    "partners": "partenaires",
}


def apply_transition(
    session: Session,
    problem: Problem,
    principal: Principal,
    to: str,
    reason: str | None,
    now: dt.datetime,
    expected_version: int | IfMatch | None = None,
) -> Problem:
    """Move the problem (no access check: callers have done it), journal and reindex.

    Also the worker's way to reopen a watched problem (``to="analysis"``).
    """
    move = problem_lifecycle.plan(problem.state, to, reason, now)
    before = problem.state
    _bump(session, problem, expected_version, now)
    problem.state = move.state
    problem.state_reason = move.reason
    problem.watch_until = move.watch_until
    session.flush()
    previous = before
    for step in move.steps:
        write_entry(
            session,
            problem.id,
            principal.actor,
            "state_change",
            move.reason or "",
            now,
            {"from": previous, "to": step},
        )
        previous = step
    reindex(session, problem)
    audit.record(
        session,
        principal,
        "problem.transition",
        "problem",
        problem.id,
        now=now,
        detail={"from": before, "to": move.state},
    )
    return problem


def transition(
    session: Session,
    principal: Principal,
    problem_id: str,
    to: str,
    reason: str | None,
    now: dt.datetime,
    expected_version: int | IfMatch | None = None,
) -> Problem:
    """The referent moves its problem along the lifecycle (TransitionRefused if not allowed)."""
    problem = problem_to_change(session, principal, problem_id)
    return apply_transition(session, problem, principal, to, reason, now, expected_version)


# --- linked incidents ---------------------------------------------------------------------


def confirmed_incidents(
    session: Session, principal: Principal, problem_id: str
) -> list[tuple[ProblemLink, Incident]]:
    """The incidents confirmed as the problem's, newest first (summary fields only)."""
    problem = get_problem(session, principal, problem_id)
    rows = session.execute(
        select(ProblemLink, Incident)
        .join(Incident, Incident.id == ProblemLink.incident_id)
        .where(ProblemLink.problem_id == problem.id, ProblemLink.state == "confirmed")
        .order_by(Incident.occurred_at.desc())
    ).all()
    return [(link, incident) for link, incident in rows]


# --- documents ----------------------------------------------------------------------------


def problem_document(problem: Problem, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": problem.id,
        "gpo_code": problem.gpo_code,
        "title": problem.title,
        "description": problem.description,
        "state": problem.state,
        "effective_state": problem_lifecycle.effective_state(
            problem.state, problem.watch_until, now
        ),
        "state_reason": problem.state_reason,
        "allowed_transitions": problem_lifecycle.allowed_targets(problem.state),
        "referent": problem.referent,
        "partners": list(problem.partners),
        "scope": dict(problem.scope),
        "watch_until": problem.watch_until,
        "created_at": problem.created_at,
        "updated_at": problem.updated_at,
        "version": problem.version,
    }


def add_journal_entry(
    session: Session,
    principal: Principal,
    problem_id: str,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> ProblemJournalEntry:
    """A meeting, decision or note written by the referent."""
    problem = problem_to_change(session, principal, problem_id)
    entry = write_entry(
        session,
        problem.id,
        principal.actor,
        data["kind"],
        data["text"].strip(),
        data.get("at") or now,
    )
    session.flush()
    audit.record(
        session,
        principal,
        "problem.journal.add",
        "problem",
        problem.id,
        now=now,
        detail={"entry": entry.id, "kind": entry.kind},
    )
    return entry


def read_journal(
    session: Session, principal: Principal, problem_id: str, now: dt.datetime
) -> list[ProblemJournalEntry]:
    """The journal, newest first: all of it for the referent, meetings and decisions for
    a partner. The referent's read is audited (notes may name people)."""
    problem = get_problem(session, principal, problem_id)
    query = select(ProblemJournalEntry).where(ProblemJournalEntry.problem_id == problem.id)
    kinds = journal_kinds_for(principal)
    if kinds is not None:
        query = query.where(ProblemJournalEntry.kind.in_(sorted(kinds)))
    else:
        audit.record(session, principal, "problem.journal.read", "problem", problem.id, now=now)
    return list(
        session.scalars(
            query.order_by(ProblemJournalEntry.at.desc(), ProblemJournalEntry.id.desc())
        )
    )
