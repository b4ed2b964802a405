"""The deployment at a glance: database, broker, outbox, feeds, workers, emails, waiting requests.

Used by ``intake-service status``; workers report themselves with ``beat``.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from intake_service.feed import outbox
from intake_service.models import (
    AppointmentRequest,
    EmailMessage,
    Incident,
    OutboxEvent,
    WorkerHeartbeat,
)
from intake_service.territory.rules.routing import department_of

ASSUMED_ROUTING_DAYS = 30
# A worker that has not beaten for this long is reported as gone.
SILENT_AFTER = dt.timedelta(minutes=2)


def _this_process(worker: str) -> tuple[str, str, int]:
    return (worker, socket.gethostname()[:255], os.getpid())


def beat(session: Session, worker: str, *, started_at: dt.datetime, now: dt.datetime) -> None:
    """Record that this process's ``worker`` is alive (and forget long-dead ones)."""
    key = _this_process(worker)
    row = session.get(WorkerHeartbeat, key)
    if row is None:
        session.add(
            WorkerHeartbeat(
                worker=key[0], host=key[1], pid=key[2], started_at=started_at, seen_at=now
            )
        )
    else:
        row.seen_at = now
    session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - dt.timedelta(days=1))
    )


def stopped(session: Session, worker: str, *, now: dt.datetime) -> None:
    """Record that this process's ``worker`` stopped cleanly."""
    row = session.get(WorkerHeartbeat, _this_process(worker))
    if row is not None:
        row.stopped_at = now


@dataclass(frozen=True)
class WorkerState:
    worker: str
    host: str
    pid: int
    seen_at: dt.datetime
    # ok (beating), silent (no beat for SILENT_AFTER: crashed or stuck), stopped (cleanly).
    state: str

    @property
    def alive(self) -> bool:
        return self.state == "ok"


def _state(row: WorkerHeartbeat, now: dt.datetime) -> str:
    if row.stopped_at is not None:
        return "stopped"
    return "ok" if now - row.seen_at <= SILENT_AFTER else "silent"


def worker_states(
    session: Session, now: dt.datetime, *, worker: str | None = None, host: str | None = None
) -> list[WorkerState]:
    query = select(WorkerHeartbeat).order_by(WorkerHeartbeat.worker, WorkerHeartbeat.seen_at)
    if worker is not None:
        query = query.where(WorkerHeartbeat.worker == worker)
    if host is not None:
        query = query.where(WorkerHeartbeat.host == host[:255])
    return [
        WorkerState(row.worker, row.host, row.pid, row.seen_at, _state(row, now))
        for row in session.scalars(query)
    ]


@dataclass
class DeploymentStatus:
    outbox_unsent: int = 0
    outbox_lag: dt.timedelta | None = None
    outbox_failing: list[tuple[int, str | None]] = field(default_factory=list)
    recent_services: list[str | None] = field(default_factory=list)
    workers: list[WorkerState] = field(default_factory=list)
    # Appointment emails not sent yet, and those the mailer gave up on (need a person).
    emails_pending: int = 0
    emails_failed: int = 0
    # Staff victims' requests waiting for a slot.
    requests_waiting: int = 0
    # Of those, the ones no station covers, by the incident's commune (INSEE code):
    # they wait until a station covering the commune is imported.
    requests_without_station: list[tuple[str | None, int]] = field(default_factory=list)
    # Sheets of the last ASSUMED_ROUTING_DAYS routed by guess (the zone table does not
    # cover their département), and of those redirected since by a command centre:
    # département → (assumed, corrected).
    assumed_routing: dict[str, tuple[int, int]] = field(default_factory=dict)


def read_status(session: Session, now: dt.datetime) -> DeploymentStatus:
    status = DeploymentStatus()
    status.outbox_unsent = int(
        session.scalar(select(func.count()).where(OutboxEvent.sent_at.is_(None))) or 0
    )
    status.outbox_lag = outbox.oldest_unsent_age(session, now)
    status.outbox_failing = [
        (position, error)
        for position, error in session.execute(
            select(OutboxEvent.position, OutboxEvent.last_error)
            .where(OutboxEvent.sent_at.is_(None), OutboxEvent.last_error.is_not(None))
            .order_by(OutboxEvent.position)
            .limit(5)
        )
    ]
    status.recent_services = list(
        session.scalars(
            select(OutboxEvent.service_code)
            .where(OutboxEvent.created_at >= now - dt.timedelta(days=1))
            .distinct()
        )
    )
    emails: dict[str, int] = {
        state: count
        for state, count in session.execute(
            select(EmailMessage.state, func.count())
            .where(EmailMessage.state.in_(("pending", "failed")))
            .group_by(EmailMessage.state)
        ).all()
    }
    status.emails_pending = int(emails.get("pending", 0))
    status.emails_failed = int(emails.get("failed", 0))
    status.requests_waiting = int(
        session.scalar(select(func.count()).where(AppointmentRequest.state == "waiting")) or 0
    )
    status.requests_without_station = [
        (insee_code, int(count))
        for insee_code, count in session.execute(
            select(Incident.insee_code, func.count())
            .join(AppointmentRequest, AppointmentRequest.incident_id == Incident.id)
            .where(AppointmentRequest.state == "waiting", AppointmentRequest.station_code.is_(None))
            .group_by(Incident.insee_code)
            .order_by(func.count().desc(), Incident.insee_code)
        )
    ]
    since = now - dt.timedelta(days=ASSUMED_ROUTING_DAYS)
    for insee_code, confidence, count in session.execute(
        select(Incident.insee_code, Incident.routing_confidence, func.count())
        .where(
            Incident.received_at >= since,
            Incident.routing_confidence.in_(("assumed", "corrected")),
            Incident.insee_code.is_not(None),
        )
        .group_by(Incident.insee_code, Incident.routing_confidence)
    ):
        department = department_of(str(insee_code))
        assumed, corrected = status.assumed_routing.get(department, (0, 0))
        status.assumed_routing[department] = (
            assumed + int(count),
            corrected + (int(count) if confidence == "corrected" else 0),
        )
    status.workers = worker_states(session, now)
    return status
