"""GPOs, their partners and problems: create, edit, move through the lifecycle, act, journal.

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
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake_service import audit, gpo_scope, problem_lifecycle
from intake_service.access import Principal, gpo_of, partner_of
from intake_service.models import (
    Gpo,
    GpoPartner,
    Incident,
    PoliceZone,
    Problem,
    ProblemAction,
    ProblemJournalEntry,
    ProblemLink,
    ProblemScopeKey,
)
from schemas.gpo import ScopeSchema

GPO_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
# The journal entries a partner reads: written for the partners, without personal data.
PARTNER_JOURNAL_KINDS = frozenset({"meeting", "decision"})
_scope_schema = ScopeSchema()


class NotFound(LookupError):
    """Absent, or outside the caller's GPO (the same answer: ids cannot be probed)."""


class Forbidden(PermissionError):
    """In the caller's GPO, but not the caller's to change (a partner, another's action)."""


class Conflict(RuntimeError):
    """The problem changed since the caller read it (``version``)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"The problem is at version {current_version}: reload it and retry.")
        self.current_version = current_version


class InvalidInput(ValueError):
    """Input the schemas cannot judge alone (a partner not of the GPO): per field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class GpoError(ValueError):
    """A GPO or partner cannot be added as asked; the message says what to do."""


TransitionRefused = problem_lifecycle.TransitionRefused


# --- GPOs and partners (the command line) -------------------------------------------------


def add_gpo(
    session: Session,
    code: str,
    name: str,
    services: Sequence[str],
    operators: Sequence[str],
    auto_confirm_strong: bool,
    now: dt.datetime,
) -> tuple[Gpo, bool, list[str]]:
    """Add a GPO (or update it if CODE exists). Returns (gpo, created, warnings).

    Any service code is accepted; a warning names those no police zone routes to.
    """
    if not GPO_CODE.match(code):
        raise GpoError(
            f"Invalid GPO code {code!r}: 2–64 lowercase letters, digits, '-' or '_' "
            "(e.g. gpo-toulouse)."
        )
    if not name.strip():
        raise GpoError("The GPO needs a name (--name).")
    services = _codes(services)
    operators = _codes(operators)
    if not services and not operators:
        raise GpoError("Name the services it covers (--services ddsp-31,...) or its operators.")
    for value in (*services, *operators):
        if not GPO_CODE.match(value):
            raise GpoError(f"Invalid code {value!r}: lowercase letters, digits, '-' or '_'.")
    routed = set(session.scalars(select(PoliceZone.service_code).distinct()))
    warnings = [
        f"no police zone routes to {service!r}: no incident will reach this GPO through it "
        "(check the code, or import the zones: intake-service zones import FILE)"
        for service in services
        if service not in routed
    ]
    gpo = session.get(Gpo, code)
    created = gpo is None
    if gpo is None:
        gpo = Gpo(code=code, created_at=now)
        session.add(gpo)
    gpo.name = name.strip()
    gpo.services = services
    gpo.operators = operators
    gpo.auto_confirm_strong = auto_confirm_strong
    session.flush()
    return gpo, created, warnings


def _codes(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        value = value.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def add_partner(session: Session, gpo_code: str, code: str, name: str) -> tuple[GpoPartner, bool]:
    """Add a partner to a GPO (or rename it). Returns (partner, created)."""
    if session.get(Gpo, gpo_code) is None:
        raise GpoError(f"No GPO {gpo_code!r}: add it first (intake-service gpos add {gpo_code}).")
    if not GPO_CODE.match(code):
        raise GpoError(
            f"Invalid partner code {code!r}: 2–64 lowercase letters, digits, '-' or '_' "
            "(e.g. pm-toulouse)."
        )
    if not name.strip():
        raise GpoError("The partner needs a name (--name).")
    partner = session.get(GpoPartner, (gpo_code, code))
    created = partner is None
    if partner is None:
        partner = GpoPartner(gpo_code=gpo_code, code=code)
        session.add(partner)
    partner.name = name.strip()
    session.flush()
    return partner, created


def list_gpos(session: Session) -> list[Gpo]:
    return list(session.scalars(select(Gpo).order_by(Gpo.code)))


def partners_of(session: Session, gpo_code: str) -> list[GpoPartner]:
    return list(
        session.scalars(
            select(GpoPartner).where(GpoPartner.gpo_code == gpo_code).order_by(GpoPartner.code)
        )
    )


def get_gpo(session: Session, principal: Principal, gpo_code: str) -> Gpo:
    """The caller's GPO; NotFound for any other."""
    if gpo_of(principal) != gpo_code:
        raise NotFound(gpo_code)
    gpo = session.get(Gpo, gpo_code)
    if gpo is None:
        raise NotFound(gpo_code)
    return gpo


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


def _check_partners(session: Session, gpo_code: str, codes: Iterable[str], field: str) -> None:
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


def _journal(
    session: Session,
    problem_id: str,
    principal: Principal,
    kind: str,
    text: str,
    now: dt.datetime,
    detail: Mapping[str, Any] | None = None,
) -> ProblemJournalEntry:
    entry = ProblemJournalEntry(
        problem_id=problem_id,
        at=now,
        kind=kind,
        text=text,
        author=principal.actor[:200],
        detail=dict(detail or {}),
    )
    session.add(entry)
    return entry


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
    _check_partners(session, gpo_code, partners, "partners")
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
    _journal(session, problem.id, principal, "state_change", "Problème créé", now, {"to": state})
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


def _changeable(session: Session, principal: Principal, problem_id: str) -> Problem:
    """The problem for a referent to change: a partner of the GPO may not (Forbidden)."""
    problem = get_problem(session, principal, problem_id)
    if principal.role != "gpo_referent":
        raise Forbidden(problem_id)
    return problem


def _bump(session: Session, problem: Problem, expected: int | None, now: dt.datetime) -> None:
    """Take the next version, if nobody took it since ``expected`` (else Conflict)."""
    seen = problem.version if expected is None else expected
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
    expected_version: int | None = None,
) -> Problem:
    """Change title, description, scope or partners; the journal says what changed."""
    problem = _changeable(session, principal, problem_id)
    changes: dict[str, Any] = {}
    if "title" in data:
        changes["title"] = data["title"].strip()
    if "description" in data:
        changes["description"] = data["description"]
    if "scope" in data:
        changes["scope"] = scope_document(data["scope"])
    if "partners" in data:
        _check_partners(session, problem.gpo_code, data["partners"], "partners")
        changes["partners"] = list(data["partners"])
    changed = [
        name
        for name in PROBLEM_FIELDS
        if name in changes and changes[name] != getattr(problem, name)
    ]
    if not changed:
        # Nothing to write; a stale version is still worth telling.
        if expected_version is not None and expected_version != problem.version:
            raise Conflict(problem.version)
        return problem
    _bump(session, problem, expected_version, now)
    for name in changed:
        setattr(problem, name, changes[name])
    session.flush()
    _journal(
        session,
        problem.id,
        principal,
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
    expected_version: int | None = None,
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
        _journal(
            session,
            problem.id,
            principal,
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
    expected_version: int | None = None,
) -> Problem:
    """The referent moves its problem along the lifecycle (TransitionRefused if not allowed)."""
    problem = _changeable(session, principal, problem_id)
    return apply_transition(session, problem, principal, to, reason, now, expected_version)


# --- actions ------------------------------------------------------------------------------


def list_actions(session: Session, principal: Principal, problem_id: str) -> list[ProblemAction]:
    """All actions of the problem (no personal data in them: partners read them too)."""
    problem = get_problem(session, principal, problem_id)
    return list(
        session.scalars(
            select(ProblemAction)
            .where(ProblemAction.problem_id == problem.id)
            .order_by(ProblemAction.due_on.is_(None), ProblemAction.due_on, ProblemAction.id)
        )
    )


def _action(
    session: Session, principal: Principal, problem_id: str, action_id: int
) -> tuple[Problem, ProblemAction]:
    problem = get_problem(session, principal, problem_id)
    # An id no INTEGER column holds is simply absent (not a database error).
    action = session.get(ProblemAction, action_id) if 0 < action_id < 2**31 else None
    if action is None or action.problem_id != problem.id:
        raise NotFound(str(action_id))
    return problem, action


def _action_text(action: ProblemAction) -> str:
    return action.what if len(action.what) <= 120 else action.what[:119] + "…"


def add_action(
    session: Session,
    principal: Principal,
    problem_id: str,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> ProblemAction:
    """An action of the plan, owned by a partner of the GPO."""
    problem = _changeable(session, principal, problem_id)
    _check_partners(session, problem.gpo_code, [data["owner_partner"]], "owner_partner")
    action = ProblemAction(
        problem_id=problem.id,
        what=data["what"].strip(),
        owner_partner=data["owner_partner"],
        starts_on=data.get("starts_on"),
        due_on=data.get("due_on"),
        status=data.get("status") or "planned",
        service_order_reference=data.get("service_order_reference") or None,
        created_at=now,
        updated_at=now,
    )
    session.add(action)
    session.flush()
    _journal(
        session,
        problem.id,
        principal,
        "action",
        f"Action ajoutée : {_action_text(action)}",
        now,
        {"action_id": action.id, "owner_partner": action.owner_partner},
    )
    audit.record(
        session,
        principal,
        "problem.action.add",
        "problem_action",
        str(action.id),
        now=now,
        detail={"problem": problem.id},
    )
    return action


ACTION_FIELDS = (
    "what",
    "owner_partner",
    "starts_on",
    "due_on",
    "status",
    "service_order_reference",
)


def update_action(
    session: Session,
    principal: Principal,
    problem_id: str,
    action_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> ProblemAction:
    """Change an action (the referent)."""
    if principal.role != "gpo_referent":
        get_problem(session, principal, problem_id)
        raise Forbidden(str(action_id))
    problem, action = _action(session, principal, problem_id, action_id)
    if "owner_partner" in data:
        _check_partners(session, problem.gpo_code, [data["owner_partner"]], "owner_partner")
    merged = {name: data.get(name, getattr(action, name)) for name in ACTION_FIELDS}
    if merged["starts_on"] and merged["due_on"] and merged["due_on"] < merged["starts_on"]:
        raise InvalidInput([{"field": "due_on", "message": "The due date is before the start."}])
    changed = [
        name for name in ACTION_FIELDS if name in data and data[name] != getattr(action, name)
    ]
    for name in changed:
        setattr(action, name, data[name])
    if changed:
        action.updated_at = now
        _journal(
            session,
            problem.id,
            principal,
            "action",
            f"Action modifiée : {_action_text(action)}",
            now,
            {"action_id": action.id, "changed": changed, "status": action.status},
        )
        audit.record(
            session,
            principal,
            "problem.action.update",
            "problem_action",
            str(action.id),
            now=now,
            detail={"changed": changed},
        )
    session.flush()
    return action


def complete_action(
    session: Session, principal: Principal, problem_id: str, action_id: int, now: dt.datetime
) -> ProblemAction:
    """Mark an action done: the referent any of its GPO, a partner only its own."""
    _problem, action = _action(session, principal, problem_id, action_id)
    if principal.role == "gpo_partner" and partner_of(principal) != action.owner_partner:
        raise Forbidden(str(action_id))
    if principal.role not in ("gpo_referent", "gpo_partner"):
        raise Forbidden(str(action_id))
    if action.status != "done":
        action.status = "done"
        action.updated_at = now
        _journal(
            session,
            action.problem_id,
            principal,
            "action",
            f"Action réalisée : {_action_text(action)}",
            now,
            {"action_id": action.id, "status": "done"},
        )
        audit.record(
            session, principal, "problem.action.done", "problem_action", str(action.id), now=now
        )
        session.flush()
    return action


# --- journal ------------------------------------------------------------------------------


def add_journal_entry(
    session: Session,
    principal: Principal,
    problem_id: str,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> ProblemJournalEntry:
    """A meeting, decision or note written by the referent."""
    problem = _changeable(session, principal, problem_id)
    entry = _journal(
        session, problem.id, principal, data["kind"], data["text"].strip(), data.get("at") or now
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
    if principal.role != "gpo_referent":
        query = query.where(ProblemJournalEntry.kind.in_(sorted(PARTNER_JOURNAL_KINDS)))
    else:
        audit.record(session, principal, "problem.journal.read", "problem", problem.id, now=now)
    return list(
        session.scalars(
            query.order_by(ProblemJournalEntry.at.desc(), ProblemJournalEntry.id.desc())
        )
    )


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


def action_document(action: ProblemAction) -> dict[str, Any]:
    return {
        "id": action.id,
        "problem_id": action.problem_id,
        "what": action.what,
        "owner_partner": action.owner_partner,
        "starts_on": action.starts_on,
        "due_on": action.due_on,
        "status": action.status,
        "service_order_reference": action.service_order_reference,
        "created_at": action.created_at,
        "updated_at": action.updated_at,
    }


def journal_document(entry: ProblemJournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "kind": entry.kind,
        "text": entry.text,
        "author": entry.author,
        "detail": dict(entry.detail),
    }


def gpo_document(session: Session, gpo: Gpo) -> dict[str, Any]:
    return {
        "code": gpo.code,
        "name": gpo.name,
        "services": list(gpo.services),
        "operators": list(gpo.operators),
        "auto_confirm_strong": gpo.auto_confirm_strong,
        "partners": [
            {"code": partner.code, "name": partner.name}
            for partner in partners_of(session, gpo.code)
        ],
    }
