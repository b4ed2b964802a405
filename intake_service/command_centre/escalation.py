"""Escalation of incidents the command centre has not acknowledged in time.

A P1 left unacknowledged 2 minutes, a P2 10 minutes, a P3 4 hours (settings)
is published as ``incident.escalated``, once per priority: if an amendment
raises the priority, the new priority's delay applies and escalates again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake_service.intake.events import record_event
from intake_service.intake.rules import lifecycle
from intake_service.models import (
    Incident,
)
from intake_service.platform.config import DEFAULT_ESCALATION_DELAYS

DEFAULT_DELAYS: Mapping[str, dt.timedelta] = DEFAULT_ESCALATION_DELAYS


def is_overdue(
    priority: str,
    received_at: dt.datetime,
    escalated_for: str | None,
    now: dt.datetime,
    delays: Mapping[str, dt.timedelta],
) -> bool:
    """Whether an unacknowledged incident passed its priority's delay, not yet escalated for it."""
    delay = delays.get(priority)
    return delay is not None and escalated_for != priority and now - received_at >= delay


def escalate_overdue(
    session: Session,
    now: dt.datetime,
    delays: Mapping[str, dt.timedelta] = DEFAULT_DELAYS,
    *,
    batch: int = 500,
) -> list[str]:
    """Escalate every overdue incident; return their ids. Safe with several escalators."""
    escalated: list[str] = []
    for priority, delay in delays.items():
        candidates = session.scalars(
            select(Incident)
            .where(
                Incident.status.in_(lifecycle.UNACKNOWLEDGED),
                Incident.priority == priority,
                Incident.received_at <= now - delay,
                # Filtered here, not after the LIMIT: escalated ones must not fill the batch.
                or_(Incident.escalated_for.is_(None), Incident.escalated_for != priority),
            )
            .order_by(Incident.received_at)
            .limit(batch)
            .with_for_update(skip_locked=True, of=Incident)
        ).all()
        for incident in candidates:
            if is_overdue(
                incident.priority, incident.received_at, incident.escalated_for, now, delays
            ):
                record_escalation(session, incident, now, delay)
                escalated.append(incident.id)
    return escalated


def record_escalation(
    session: Session, incident: Incident, now: dt.datetime, delay: dt.timedelta
) -> None:
    """Mark ``incident`` escalated for its priority and publish ``incident.escalated``."""
    incident.escalated_for = incident.priority
    incident.updated_at = now
    session.flush()
    record_event(
        session,
        incident,
        "incident.escalated",
        now,
        {
            "unacknowledged_for_seconds": int((now - incident.received_at).total_seconds()),
            "delay_seconds": int(delay.total_seconds()),
        },
    )
