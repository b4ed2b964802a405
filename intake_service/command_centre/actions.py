"""What the command centre does to an incident: acknowledge, dispatch, close,
reject, redirect to another service.

The lifecycle table (``intake.rules.lifecycle``) says which moves are allowed; a
redirect re-routes the incident and publishes it to its new service's feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import (
    Principal,
)
from intake_service.command_centre.holding import check_may_act
from intake_service.intake import duplicates
from intake_service.intake.events import record_event, record_status_change
from intake_service.intake.places import service_for_code
from intake_service.intake.queries import UnknownService, get_for_update
from intake_service.intake.rules import lifecycle
from intake_service.intake.rules.lifecycle import TransitionRefused
from intake_service.intake.submission import apply_routing
from intake_service.models import (
    Incident,
)
from intake_service.territory.rules.routing import (
    CompetentService,
    Routing,
    confidence_after_redirect,
)


def change_status(
    session: Session,
    principal: Principal,
    incident_id: str,
    request: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> Incident:
    """Acknowledge, dispatch, close or reject: the command centre's actions.

    Each is a status change with its author, an ``incident.status_changed``
    event on the feed and a webhook delivery for the operator. A rejection with
    ``redirect_to`` sends the incident to the competent service instead.
    """
    incident = get_for_update(session, principal, incident_id)
    # Another desk has it: no double dispatch (the holder, or a supervisor, acts).
    check_may_act(incident, principal)
    target = request["status"]
    if not lifecycle.can_move(incident.status, target):
        raise TransitionRefused(
            incident.status, f"The incident is {incident.status}: it cannot become {target}."
        )
    detail = {
        key: request[key]
        for key in ("call_sign", "outcome", "comment", "cause_code", "cause", "redirect_to")
        if key in request
    }
    redirect = None
    if target == "rejected" and "redirect_to" in request:
        redirect = service_for_code(session, request["redirect_to"])
        if redirect is None or redirect.code == incident.service_code:
            raise UnknownService(request["redirect_to"])
    _apply(session, principal, incident, target, detail, redirect, now)
    # Acting on a group's lead acts on every member (each keeps its own history);
    # a member acted on alone changes alone.
    if incident.group_id is not None:
        group = duplicates.members(session, incident.group_id)
        if duplicates.lead_of([incident, *[m for m in group if m.id != incident.id]]) is incident:
            for member in group:
                if member.id == incident.id:
                    continue
                locked = get_for_update(session, principal, member.id)
                if lifecycle.can_move(locked.status, target):
                    _apply(
                        session,
                        principal,
                        locked,
                        target,
                        {**detail, "grouped": True},
                        redirect,
                        now,
                    )
    return incident


def _apply(
    session: Session,
    principal: Principal,
    incident: Incident,
    target: str,
    detail: Mapping[str, Any],
    redirect: CompetentService | None,
    now: dt.datetime,
) -> None:
    record_status_change(session, incident, target, principal, now, dict(detail))
    if target == "acknowledged":
        incident.acknowledged_at = now
    incident.updated_at = now
    session.flush()
    record_event(
        session,
        incident,
        "incident.status_changed",
        now,
        {"status": target, "detail": dict(detail)},
    )
    if redirect is not None:
        confidence = confidence_after_redirect(incident.routing_confidence)
        apply_routing(incident, Routing(redirect, incident.insee_code, "redirected", confidence))
        record_status_change(
            session, incident, "received", principal, now, {"rerouted_to": redirect.code}
        )
        incident.acknowledged_at = None
        incident.escalated_for = None
        session.flush()
        record_event(session, incident, "incident.submitted", now, {})
    audit.record(
        session,
        principal,
        f"incident.{target}",
        "incident",
        incident.id,
        now=now,
        detail={key: value for key, value in detail.items() if key in ("outcome", "redirect_to")},
    )
