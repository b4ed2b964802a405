"""The operator's changes to a sheet it sent: amend (a new version, merge-patched and
validated again, re-routed when its place changed) and withdraw.

Both run in the caller's transaction, write the change and its outbox event together,
and never commit.
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
from intake_service.intake import duplicates
from intake_service.intake.events import record_event, record_status_change
from intake_service.intake.places import CommuneLocator, check_place
from intake_service.intake.queries import get_for_update
from intake_service.intake.rules import lifecycle
from intake_service.intake.rules.lifecycle import TransitionRefused
from intake_service.intake.rules.priority import assess
from intake_service.intake.rules.sheet_diff import changed_paths, merge_patch
from intake_service.intake.rules.warnings import sheet_warnings
from intake_service.intake.submission import apply_routing, sheet_schema
from intake_service.models import (
    Incident,
    IncidentVersion,
)
from intake_service.platform.errors import Conflict
from intake_service.platform.preconditions import IfMatch, as_version
from intake_service.territory.reference_cache import ReferenceCache
from schemas.sheet import evaluated_at
from schemas.vocabulary import OPEN_STATUSES


def _check_version(incident: Incident, expected: int | IfMatch | None) -> None:
    if as_version(expected, incident.version) not in (None, incident.version):
        raise Conflict(incident.version, "incident's sheet")


def amend_incident(
    session: Session,
    principal: Principal,
    incident_id: str,
    patch: Mapping[str, Any],
    *,
    now: dt.datetime,
    locator: CommuneLocator,
    reference: ReferenceCache,
    duplicate_settings: duplicates.DuplicateSettings = duplicates.DEFAULT,
    expected_version: int | IfMatch | None = None,
) -> Incident:
    """Merge ``patch`` into the sheet, validate the whole, keep a new version, recompute priority.

    The sheet's time bounds are checked against the time it was received: an
    amendment adds facts, it does not move the report in time.

    Routing follows the place while no command centre has the incident: if the
    amended place belongs to another service, the first one gets the amendment
    (showing where it went) and the new one gets the incident. A sheet returned
    by a command centre (``rejected`` without redirect) is sent again once
    amended. An incident a command centre redirected stays where it was sent.
    Raises marshmallow.ValidationError with the merged sheet's paths, and Conflict when
    ``expected_version`` (If-Match) is not the sheet's current version: checked under
    the row's lock, so of two amendments of one version only the first goes through.
    """
    incident = get_for_update(session, principal, incident_id)
    _check_version(incident, expected_version)
    if incident.status not in lifecycle.AMENDABLE:
        raise TransitionRefused(
            incident.status, f"An incident that is {incident.status} cannot be amended."
        )
    merged = merge_patch(incident.sheet, dict(patch))
    with evaluated_at(incident.received_at):
        sheet = sheet_schema.load(merged)
    stored_sheet = sheet_schema.dump(sheet)
    changes = changed_paths(incident.sheet, stored_sheet)
    if not changes:
        return incident
    place = check_place(session, incident.operator_id, sheet["location"], locator, reference)
    assessment = assess(sheet, now)
    incident.version += 1
    incident.sheet = stored_sheet
    incident.updated_at = now
    incident.occurred_at = sheet["occurred_at"]
    incident.state = sheet["state"]
    incident.primary_nature = sheet["primary_nature"]
    incident.priority = assessment.priority
    incident.priority_rank = assessment.rank
    incident.priority_reason = assessment.reason
    incident.warnings = [*sheet_warnings(sheet, now), *place.warnings]
    previous_service = incident.service_code
    if incident.routing_basis != "redirected" and incident.status in lifecycle.REROUTABLE:
        apply_routing(incident, place.routing)
    resubmit = incident.status == "rejected" or incident.service_code != previous_service
    session.add(
        IncidentVersion(
            incident_id=incident.id,
            version=incident.version,
            sheet=stored_sheet,
            priority=assessment.priority,
            changed_paths=changes,
            created_at=now,
            author=principal.actor,
        )
    )
    session.flush()
    # New facts (a place, a vehicle) may tie it to another report of the same event.
    proposal = (
        duplicates.propose(session, incident, duplicate_settings, now=now)
        if incident.status in OPEN_STATUSES
        else duplicates.Proposal([], [])
    )
    if incident.status != "rejected":
        record_event(
            session,
            incident,
            "incident.amended",
            now,
            {"changed_paths": changes, "duplicates": proposal.candidates},
            service_code=previous_service,
        )
    duplicates.group_strong(session, incident, proposal, now=now, actor=principal.actor)
    if resubmit:
        if incident.status != "received":
            record_status_change(
                session, incident, "received", principal, now, {"resubmitted": True}
            )
        incident.escalated_for = None
        session.flush()
        record_event(session, incident, "incident.submitted", now, {})
    audit.record(
        session,
        principal,
        "incident.amend",
        "incident",
        incident.id,
        now=now,
        detail={"version": incident.version, "changed_paths": changes},
    )
    return incident


def withdraw_incident(
    session: Session,
    principal: Principal,
    incident_id: str,
    reason: str | None,
    *,
    now: dt.datetime,
    expected_version: int | IfMatch | None = None,
) -> Incident:
    """Withdraw a sheet sent by mistake; refused once the command centre has acknowledged it."""
    incident = get_for_update(session, principal, incident_id)
    _check_version(incident, expected_version)
    if not lifecycle.can_move(incident.status, "withdrawn"):
        raise TransitionRefused(
            incident.status,
            f"The incident is {incident.status}: it can no longer be withdrawn, only amended."
            if incident.status in lifecycle.AMENDABLE
            else f"The incident is {incident.status}.",
        )
    record_status_change(session, incident, "withdrawn", principal, now, {"reason": reason})
    incident.updated_at = now
    session.flush()
    record_event(session, incident, "incident.withdrawn", now, {"reason": reason})
    audit.record(session, principal, "incident.withdraw", "incident", incident.id, now=now)
    return incident
