"""A problem's actions: what partners do about it, with an owner, dates and a status.
A referent adds and changes them; a partner marks done those its organisation owns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.access.rules.redaction import may_complete_action
from intake_service.gpo.journal import write_entry
from intake_service.gpo.problems import InvalidInput, check_partners, get_problem, problem_to_change
from intake_service.models import (
    Problem,
    ProblemAction,
)
from intake_service.platform.errors import Forbidden, NotFound

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
    problem = problem_to_change(session, principal, problem_id)
    check_partners(session, problem.gpo_code, [data["owner_partner"]], "owner_partner")
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
    write_entry(
        session,
        problem.id,
        principal.actor,
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
        check_partners(session, problem.gpo_code, [data["owner_partner"]], "owner_partner")
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
        write_entry(
            session,
            problem.id,
            principal.actor,
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
    if not may_complete_action(principal, action.owner_partner):
        raise Forbidden(str(action_id))
    if action.status != "done":
        action.status = "done"
        action.updated_at = now
        write_entry(
            session,
            action.problem_id,
            principal.actor,
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
