"""The outbox, seen from the relay: claim unsent events, mark them sent.

Events are written by the use cases in the transaction of the change they
describe (``incidents._record_event``); the relay publishes them and marks them
sent in its own transaction. Delivery is at least once: a relay killed between
publishing and committing publishes those events again, and consumers drop
the duplicates by event id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake_service.models import OutboxEvent

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
        )
    )


def claim_unsent(session: Session, limit: int) -> Sequence[OutboxEvent]:
    """The oldest unsent events, locked for this relay; other relays skip them."""
    return session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.sent_at.is_(None))
        .order_by(OutboxEvent.position)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def mark_sent(event: OutboxEvent, now: dt.datetime) -> None:
    event.sent_at = now
    event.attempts += 1


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
