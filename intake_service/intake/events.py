"""What a change of an incident leaves behind, in the same transaction: its status
change (history and webhook delivery) and its outbox event.

Every use case that changes an incident (intake, amendments, the command centre,
escalation) records through here, so the envelope and the history are written once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import (
    Principal,
)
from intake_service.feed import outbox, webhooks
from intake_service.intake.documents import incident_document
from intake_service.models import (
    Incident,
    StatusChange,
)
from schemas.incident import IncidentSchema
from schemas.messages import ENVELOPE_VERSION, EnvelopeSchema

_incident_schema = IncidentSchema()
_envelope_schema = EnvelopeSchema()


def record_status_change(
    session: Session,
    incident: Incident,
    status: str,
    principal: Principal,
    now: dt.datetime,
    detail: dict[str, Any],
) -> None:
    change = status_change(incident, status, principal, now, detail)
    session.add(change)
    webhooks.enqueue_status_change(session, incident, change, now)


def status_change(
    incident: Incident,
    status: str,
    principal: Principal,
    now: dt.datetime,
    detail: dict[str, Any],
) -> StatusChange:
    """The incident takes ``status``: its history gets the change (to add to the session)."""
    incident.status = status
    change = StatusChange(
        incident_id=incident.id,
        status=status,
        at=now,
        author_role=principal.role,
        author=principal.actor,
        detail=detail,
    )
    incident.status_changes.append(change)
    return change


CURRENT_SERVICE: Any = object()


def record_event(
    session: Session,
    incident: Incident,
    event_type: str,
    now: dt.datetime,
    extra: dict[str, Any],
    *,
    service_code: str | None = CURRENT_SERVICE,
) -> dict[str, Any]:
    """Write the event to the outbox, in the same transaction as the change; return it.

    It goes to the incident's service, or to ``service_code`` when given (the
    service an incident just left).
    """
    incident.event_sequence += 1
    envelope = _envelope_schema.dump(
        {
            "id": str(uuid.uuid4()),
            "type": event_type,
            "version": ENVELOPE_VERSION,
            "occurred_at": now,
            "payload": {
                "incident": incident_document(incident),
                "sequence": incident.event_sequence,
                **extra,
            },
        }
    )
    outbox.add_event(
        session,
        envelope,
        incident_id=incident.id,
        service_code=incident.service_code if service_code is CURRENT_SERVICE else service_code,
        priority=incident.priority,
        now=now,
    )
    return envelope
