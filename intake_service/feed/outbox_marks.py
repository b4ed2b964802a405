"""outbox_marks"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import (
    Principal,
)
from intake_service.feed import webhooks
from intake_service.models import (
    Incident,
    StatusChange,
)

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
