"""A surge of like sheets (a system resending, a mass event) keeps the intake path
bounded: each new sheet keeps at most the ten nearest candidates in time, on SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from intake_service.intake.duplicates import MAX_CANDIDATES
from intake_service.models import DuplicatePair, OutboxEvent
from intake_service.platform.db import Database
from intake_service.territory import zones
from tests.conftest import Clock
from tests.factories import a_sheet, create_tokens


def test_each_sheet_of_a_surge_keeps_ten_candidates(app: Any, db: Database, clock: Clock) -> None:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "ddsp-31", "DIPN 31")])
    client = app.test_client()
    ids = []
    for number in range(15):
        clock.advance(seconds=20)
        answer = client.post(
            "/api/v1/incidents", json=a_sheet(f"VAGUE-{number:02d}"), headers=headers["operator"]
        )
        assert answer.status_code == 201
        ids.append(answer.get_json()["id"])
    with db.reading() as session:
        last = session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.incident_id == ids[-1], OutboxEvent.event_type == "incident.submitted"
            )
        ).one()
        pairs = session.scalar(
            select(func.count())
            .select_from(DuplicatePair)
            .where(or_(DuplicatePair.first_id == ids[-1], DuplicatePair.second_id == ids[-1]))
        )
    candidates = [c["incident_id"] for c in last.envelope["payload"]["duplicates"]]
    assert len(candidates) == MAX_CANDIDATES == 10
    assert candidates == list(reversed(ids[4:14]))  # the nearest in time first
    assert pairs == MAX_CANDIDATES
