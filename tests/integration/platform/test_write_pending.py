"""``db.write_pending``: a use case's new rows in one statement on PostgreSQL, a flush elsewhere."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, select

from intake_service.models import AuditEntry, OutboxEvent
from intake_service.platform.db import Database, write_pending


def test_new_rows_are_written_together_with_their_defaults(db: Database, clock: Any) -> None:
    statements: list[str] = []
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement.split()[0]),
    )
    event_id = str(uuid.uuid4())
    with db.transaction() as session:
        session.add(
            OutboxEvent(
                event_id=event_id,
                event_type="incident.submitted",
                incident_id=str(uuid.uuid4()),
                service_code="ddsp-31",
                priority="P2",
                envelope={"id": event_id},
                created_at=clock.now,
                # ``attempts`` left out: its column default (0) applies.
            )
        )
        session.add(
            AuditEntry(
                at=clock.now,
                actor="test",
                role="admin",
                scope="*",
                action="test.write",
                resource_type="incident",
                resource_id=None,
                detail={},
            )
        )
        write_pending(session)
    if db.engine.dialect.name == "postgresql":
        assert statements == ["WITH"]  # one round trip for both rows
    with db.reading() as session:
        written = session.scalars(select(OutboxEvent)).one()
        assert (written.event_id, written.attempts, written.sent_at) == (event_id, 0, None)
        assert session.scalars(select(AuditEntry.action)).all() == ["test.write"]
