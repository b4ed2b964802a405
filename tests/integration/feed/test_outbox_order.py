"""The relay's order: the most urgent unsent events first, then the oldest."""

from __future__ import annotations

import uuid
from typing import Any

from intake_service.feed import outbox
from intake_service.platform.db import Database


def an_event(db: Database, now: Any, priority: str) -> str:
    event_id = str(uuid.uuid4())
    with db.transaction() as session:
        outbox.add_event(
            session,
            {"id": event_id, "type": "incident.submitted", "payload": {}},
            incident_id=str(uuid.uuid4()),
            service_code="ddsp-31",
            priority=priority,
            now=now,
        )
    return event_id


def test_a_p1_behind_a_backlog_of_p4_is_claimed_first(db: Database, clock: Any) -> None:
    backlog = [an_event(db, clock.now, "P4") for _ in range(5)]
    late_p3 = an_event(db, clock.now, "P3")
    urgent = an_event(db, clock.now, "P1")
    with db.transaction() as session:
        claimed = [event.event_id for event in outbox.claim_unsent(session, 3)]
    assert claimed == [urgent, late_p3, backlog[0]]
    with db.transaction() as session:
        rest = [event.event_id for event in outbox.claim_unsent(session, 10)]
    # Nothing was marked sent: the same order again, oldest first within a priority.
    assert rest == [urgent, late_p3, *backlog]
