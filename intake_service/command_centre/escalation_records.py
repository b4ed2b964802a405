"""escalation_records"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from intake_service.intake.events import _record_event
from intake_service.models import (
    Incident,
)


def record_escalation(
    session: Session, incident: Incident, now: dt.datetime, delay: dt.timedelta
) -> None:
    """Mark ``incident`` escalated for its priority and publish ``incident.escalated``."""
    incident.escalated_for = incident.priority
    incident.updated_at = now
    session.flush()
    _record_event(
        session,
        incident,
        "incident.escalated",
        now,
        {
            "unacknowledged_for_seconds": int((now - incident.received_at).total_seconds()),
            "delay_seconds": int(delay.total_seconds()),
        },
    )
