"""Taking an incident: one command-centre operator holds it, every console of the
service sees who, a second operator is refused, a supervisor reassigns.

Each use case runs in the caller's transaction and never commits; each writes an
``incident.taken`` or ``incident.released`` event (the consoles follow them live, the
CIC's own systems on the feed) and an audit entry. The operator's side never learns
who holds its sheet (the follow-up shows steps by role).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.accounts import EMAIL, principal_of
from intake_service.access.rules.permissions import Principal
from intake_service.access.rules.permissions import actor_name as person
from intake_service.command_centre.rules.holding import may_act, may_reassign, may_take
from intake_service.intake.events import record_event
from intake_service.intake.queries import get_for_update
from intake_service.models import Incident, User
from intake_service.platform.errors import Forbidden, Refused
from intake_service.platform.labels import hour
from schemas.vocabulary import OPEN_STATUSES

TAKEN = "incident.taken"
RELEASED = "incident.released"


class HeldByAnother(Refused):
    """The incident is held by another operator of the service (409)."""

    def __init__(self, incident: Incident) -> None:
        assert incident.held_by is not None
        assert incident.held_at is not None
        super().__init__(
            "held_by",
            f"Incident pris par {person(incident.held_by)} à {hour(incident.held_at)} : "
            "un superviseur peut le réattribuer.",
        )
        self.holder = incident.held_by
        self.held_at = incident.held_at


def holder_document(incident: Incident) -> dict[str, Any] | None:
    if incident.held_by is None:
        return None
    return {"person": person(incident.held_by), "at": incident.held_at}


def check_may_act(incident: Incident, principal: Principal) -> None:
    """Raise HeldByAnother when another operator holds the incident (status changes)."""
    if not may_act(incident.held_by, principal.actor, principal.supervisor):
        raise HeldByAnother(incident)


def _open(incident: Incident) -> None:
    if incident.status not in OPEN_STATUSES:
        raise Refused("status", f"The incident is {incident.status}: nobody takes it any more.")


def _record(
    session: Session,
    principal: Principal,
    incident: Incident,
    event: str,
    now: dt.datetime,
    previous: str | None,
) -> None:
    incident.updated_at = now
    session.flush()
    record_event(
        session,
        incident,
        event,
        now,
        {"holder": holder_document(incident), "by": person(principal.actor)},
    )
    audit.record(
        session,
        principal,
        "incident.take" if event == TAKEN else "incident.release",
        "incident",
        incident.id,
        now=now,
        detail={"holder": incident.held_by, "previous": previous},
    )


def take(session: Session, principal: Principal, incident_id: str, *, now: dt.datetime) -> Incident:
    """The caller takes the incident; taking one's own again changes nothing (then
    ``held_at`` is not ``now``: the caller counts the time to take once).

    Raises NotFound outside the caller's scope, HeldByAnother when another holds it,
    Refused when the incident is no longer open.
    """
    incident = get_for_update(session, principal, incident_id)
    _open(incident)
    if not may_take(incident.held_by, principal.actor):
        raise HeldByAnother(incident)
    if incident.held_by == principal.actor:
        return incident
    incident.held_by, incident.held_at = principal.actor, now
    _record(session, principal, incident, TAKEN, now, None)
    return incident


def release(
    session: Session, principal: Principal, incident_id: str, *, now: dt.datetime
) -> Incident:
    """The holder (or a supervisor) lets the incident go; releasing a free one changes nothing."""
    incident = get_for_update(session, principal, incident_id)
    if incident.held_by is None:
        return incident
    if not may_act(incident.held_by, principal.actor, principal.supervisor):
        raise HeldByAnother(incident)
    previous = incident.held_by
    incident.held_by, incident.held_at = None, None
    _record(session, principal, incident, RELEASED, now, previous)
    return incident


def reassign(
    session: Session,
    principal: Principal,
    incident_id: str,
    to_email: str | None,
    *,
    now: dt.datetime,
) -> Incident:
    """A supervisor gives the incident to an operator of the service (by email), or frees it.

    Raises Forbidden for a non-supervisor, Refused (422, ``to``) for an email that is no
    active operator of this service.
    """
    if not may_reassign(principal.supervisor):
        raise Forbidden("only a command centre's supervisor reassigns an incident")
    incident = get_for_update(session, principal, incident_id)
    if to_email is None:
        return release(session, principal, incident_id, now=now)
    _open(incident)
    email = to_email.strip().lower()
    # Checked before the query: PostgreSQL refuses a NUL in a text (a 500, not a 422).
    valid = email.isprintable() and EMAIL.match(email) is not None
    user = session.scalar(select(User).where(User.email == email)) if valid else None
    if (
        user is None
        or user.disabled_at is not None
        or user.role != "command_centre"
        or user.scope != principal.scope
    ):
        raise Refused(
            "to", "No active operator of this command centre has this email.", conflict=False
        )
    actor = principal_of(user).actor
    if incident.held_by == actor:
        return incident
    previous = incident.held_by
    incident.held_by, incident.held_at = actor, now
    _record(session, principal, incident, TAKEN, now, previous)
    return incident


def service_operators(session: Session, principal: Principal) -> list[str]:
    """The emails of the active operators of the caller's service (the reassign form)."""
    return list(
        session.scalars(
            select(User.email)
            .where(
                User.role == "command_centre",
                User.scope == principal.scope,
                User.disabled_at.is_(None),
            )
            .order_by(User.email)
        )
    )
