"""The outbox: events written with the change they describe, claimed, published and
marked sent by the relay.

Events are written by the use cases in the transaction of the change they
describe (``intake.events.record_event``); the relay publishes them and marks them
sent in its own transaction. Delivery is at least once: a relay killed between
publishing and committing publishes those events again, and consumers drop
the duplicates by event id. When a sheet's events reach the feed, the relay marks
the incidents ``queued`` (``mark_queued``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import (
    Principal,
)
from intake_service.feed import webhooks
from intake_service.models import (
    Incident,
    OutboxEvent,
    StatusChange,
)
from intake_service.platform import logs

log = logging.getLogger(__name__)

# A trigger on outbox_events notifies this channel when rows are committed
# (migration 0003, PostgreSQL only); relays LISTEN to it.
NOTIFY_CHANNEL = "outbox"


def add_event(
    session: Session,
    envelope: Mapping[str, Any],
    *,
    incident_id: str,
    service_code: str | None,
    priority: str,
    now: dt.datetime,
) -> None:
    """Queue ``envelope`` for the relay, in the caller's transaction."""
    session.add(
        OutboxEvent(
            event_id=envelope["id"],
            event_type=envelope["type"],
            incident_id=incident_id,
            service_code=service_code,
            priority=priority,
            envelope=dict(envelope),
            created_at=now,
            attempts=0,
            request_id=logs.request_id.get(),
        )
    )


def claim_unsent(session: Session, limit: int) -> Sequence[OutboxEvent]:
    """The unsent events, most urgent first, then oldest first; locked for this relay.

    Other relays skip the locked ones. During a surge the backlog waits here as
    much as in the broker: a P1 accepted behind a thousand P4 is published first.
    Events of one incident may then leave out of order (an amendment that raised
    the priority before its submission); consumers apply them by ``sequence``.
    """
    return session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.sent_at.is_(None))
        .order_by(OutboxEvent.priority, OutboxEvent.position)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def mark_sent(session: Session, positions: Sequence[int], now: dt.datetime) -> None:
    """The events at ``positions`` reached the broker: one UPDATE for the relay's batch."""
    if not positions:
        return
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.position.in_(positions))
        .values(sent_at=now, attempts=OutboxEvent.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def record_failure(session: Session, position: int, error: str) -> None:
    """Count a failed attempt to publish the event at ``position``, with its error."""
    event = session.get(OutboxEvent, position)
    if event is not None and event.sent_at is None:
        event.attempts += 1
        event.last_error = error[:500]


def oldest_unsent_age(session: Session, now: dt.datetime) -> dt.timedelta | None:
    """How long the oldest unsent event has waited (the relay's lag), or None."""
    oldest = session.scalar(
        select(func.min(OutboxEvent.created_at)).where(OutboxEvent.sent_at.is_(None))
    )
    return None if oldest is None else now - oldest


def events_after(
    session: Session,
    after_position: int,
    *,
    service_code: str | None = None,
    unrouted: bool = False,
    operator_id: int | None = None,
    limit: int = 200,
) -> Sequence[OutboxEvent]:
    """Events after ``after_position``, for one service's console or one operator's pages.

    The outbox is also the log the live pages read: a page that reconnects asks
    for what came after the last position it saw, and misses nothing.
    """
    query = select(OutboxEvent).where(OutboxEvent.position > after_position)
    if unrouted:
        query = query.where(OutboxEvent.service_code.is_(None))
    elif service_code is not None:
        query = query.where(OutboxEvent.service_code == service_code)
    if operator_id is not None:
        query = query.join(Incident, Incident.id == OutboxEvent.incident_id).where(
            Incident.operator_id == operator_id
        )
    return session.scalars(query.order_by(OutboxEvent.position).limit(limit)).all()


def last_position(session: Session) -> int:
    return int(session.scalar(select(func.max(OutboxEvent.position))) or 0)


SYSTEM = Principal(role="system", scope="*", actor="relay")


def mark_queued(session: Session, incident_ids: Sequence[str], now: dt.datetime) -> None:
    """The submitted events reached the feed: ``received`` becomes ``queued``.

    Only from ``received``: the command centre may already have acted (it reads
    the database too), and a later status must not be overwritten. One UPDATE for
    the relay's whole batch: the condition is checked on each row as it is
    locked, so a concurrent acknowledgement wins and is left as it is.
    """
    if not incident_ids:
        return
    queued = session.execute(
        update(Incident)
        .where(Incident.id.in_(incident_ids), Incident.status == "received")
        .values(status="queued", updated_at=now)
        .returning(Incident.id, Incident.operator_id, Incident.operator_reference)
        .execution_options(synchronize_session=False)
    ).all()
    changes = [
        (
            row,
            StatusChange(
                incident_id=row.id,
                status="queued",
                at=now,
                author_role=SYSTEM.role,
                author=SYSTEM.actor,
                detail={},
            ),
        )
        for row in queued
    ]
    if not changes:
        return
    # The batch's rows in one INSERT, without the unit of work's bookkeeping: nothing
    # reads them back in this transaction.
    session.execute(
        insert(StatusChange),
        [
            {
                "incident_id": change.incident_id,
                "status": change.status,
                "at": change.at,
                "author_role": change.author_role,
                "author": change.author,
                "detail": change.detail,
            }
            for _, change in changes
        ],
    )
    webhooks.enqueue_status_changes(session, changes, now)
