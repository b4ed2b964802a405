"""The command centre's decisions on duplicate reports: « même événement » (the two
incidents, and the groups they are in, become one group with one lead), « distinct »
(the pair is never proposed again), a member leaving its group.

Each use case runs in the caller's transaction and never commits; groups and pairs
are ``intake.duplicates``'s. Both incidents must be in the caller's scope (404 else).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.intake import duplicates
from intake_service.intake.queries import get_for_update, get_incident
from intake_service.models import Incident
from intake_service.platform.errors import Refused
from schemas.vocabulary import OPEN_STATUSES


def duplicates_of(session: Session, principal: Principal, incident_id: str) -> dict[str, Any]:
    """The incident's candidates and its group, for the command centre."""
    incident = get_incident(session, principal, incident_id)
    group = duplicates.members(session, incident.group_id) if incident.group_id else []
    return {
        "candidates": duplicates.candidates_of(session, incident),
        "group": duplicates.group_document(group) if group else None,
    }


def decide(
    session: Session,
    principal: Principal,
    incident_id: str,
    other_id: str,
    decision: str,
    *,
    now: dt.datetime,
) -> Incident:
    """``same``: one event (a group); ``distinct``: never proposed again."""
    if other_id == incident_id:
        get_incident(session, principal, incident_id)  # outside the scope: 404 first
        raise Refused("other", "An incident is not a duplicate of itself.", conflict=False)
    first_id, second_id = sorted((incident_id, other_id))  # lock in one order: no deadlock
    first = get_for_update(session, principal, first_id)
    second = get_for_update(session, principal, second_id)
    incident, other = (first, second) if first.id == incident_id else (second, first)
    if decision == "same":
        for each in (incident, other):
            if each.status not in OPEN_STATUSES:
                raise Refused("status", f"Incident {each.id} is {each.status}: not grouped.")
        if incident.group_id is None or incident.group_id != other.group_id:
            duplicates.join(session, [incident, other], now=now, actor=principal.actor)
    else:
        if incident.group_id is not None and incident.group_id == other.group_id:
            raise Refused(
                "decision", "They are in one group: take one out of it first.", conflict=True
            )
        duplicates.decide_distinct(session, incident, other, now=now, actor=principal.actor)
    audit.record(
        session,
        principal,
        f"incident.duplicate.{decision}",
        "incident",
        incident.id,
        now=now,
        detail={"other": other.id},
    )
    return incident


def leave(
    session: Session, principal: Principal, incident_id: str, *, now: dt.datetime
) -> Incident:
    """The incident leaves its group (not proposed again with its members)."""
    incident = get_for_update(session, principal, incident_id)
    if incident.group_id is None:
        raise Refused("group", "The incident is in no group.", conflict=True)
    duplicates.leave(session, incident, now=now, actor=principal.actor)
    audit.record(session, principal, "incident.duplicate.leave", "incident", incident.id, now=now)
    return incident
