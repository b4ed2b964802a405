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


def test_bad_ids_of_a_pair_are_404_not_500(app: Any, db: Database, clock: Clock) -> None:
    """PostgreSQL refuses a NUL in a text: the ids are checked before any query."""
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "ddsp-31", "DIPN 31")])
    client = app.test_client()
    answer = client.post("/api/v1/incidents", json=a_sheet("PAIRE-1"), headers=headers["operator"])
    incident_id = answer.get_json()["id"]
    for other in ("a%00b", "%ED%A0%80", "not-an-id", incident_id):
        decided = client.post(
            f"/api/v1/incidents/{incident_id}/duplicates/{other}",
            json={"decision": "same"},
            headers=headers["command_centre"],
        )
        expected = 422 if other == incident_id else 404  # a sheet is no duplicate of itself
        assert decided.status_code == expected, (other, decided.get_json())
        assert decided.mimetype == "application/problem+json"
    refused = client.post(
        f"/api/v1/incidents/{incident_id}/duplicates/{incident_id}",
        json={"decision": "pareil\x00"},
        headers=headers["command_centre"],
    )
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "decision"
