"""Incidents left unacknowledged past their priority's delay are escalated, once per priority.

The clock is the test's: ``clock.advance`` moves both the API and the escalator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from intake_service.feed import outbox
from intake_service.models import Incident, OutboxEvent
from intake_service.platform.config import DEFAULT_ESCALATION_DELAYS, Config, ConfigError
from intake_service.territory import zones
from tests.factories import a_sheet, create_tokens
from workers.periodic import Escalator
from workers.runner import build_workers

QUEUE = "/api/v1/command-centre/incidents"
Headers = dict[str, dict[str, str]]
Sheet = dict[str, Any]


@pytest.fixture
def headers(db: Any, clock: Any) -> Headers:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "ddsp-31", "DIPN 31")])
    return headers


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def toulouse(reference: str, **changes: Any) -> Sheet:
    sheet = a_sheet(reference, **changes)
    sheet["location"]["insee_code"] = "31555"
    return sheet


def p1(reference: str) -> Sheet:
    return toulouse(reference)


def p2(reference: str) -> Sheet:
    return toulouse(reference, state="just_happened")


def p3(reference: str) -> Sheet:
    return toulouse(reference, state="over")


def p4(reference: str) -> Sheet:
    return toulouse(reference, state="over", victims=[], video={"exists": "no"})


def submit(client: Any, headers: Headers, sheet: Sheet, priority: str) -> str:
    response = client.post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["priority"] == priority
    incident_id: str = response.get_json()["id"]
    return incident_id


def escalations(db: Any, incident_id: str | None = None) -> list[OutboxEvent]:
    query = select(OutboxEvent).where(OutboxEvent.event_type == "incident.escalated")
    if incident_id is not None:
        query = query.where(OutboxEvent.incident_id == incident_id)
    with db.transaction() as session:
        return list(session.scalars(query.order_by(OutboxEvent.position)))


def escalated_for(db: Any, incident_id: str) -> list[str]:
    """The priorities the incident was escalated for, in order (from its published events)."""
    return [e.envelope["payload"]["incident"]["priority"] for e in escalations(db, incident_id)]


def test_p1_is_escalated_at_two_minutes_and_only_once(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    incident_id = submit(client, headers, p1("E-1"), "P1")
    escalator = Escalator(db, clock=clock)

    clock.advance(minutes=1, seconds=59)
    assert escalator.run_once() == []
    assert escalations(db) == []

    clock.advance(seconds=1)
    assert escalator.run_once() == [incident_id]
    [event] = escalations(db)
    assert event.incident_id == incident_id
    assert event.service_code == "ddsp-31"
    assert event.priority == "P1"
    assert event.envelope["type"] == "incident.escalated"
    assert event.envelope["occurred_at"] == "2026-03-14T17:32:00+00:00"
    payload = event.envelope["payload"]
    assert payload["delay_seconds"] == 120
    assert payload["unacknowledged_for_seconds"] == 120
    assert payload["incident"]["id"] == incident_id
    assert escalated_for(db, incident_id) == ["P1"]

    clock.advance(minutes=8)
    assert escalator.run_once() == []
    assert len(escalations(db)) == 1


@pytest.mark.parametrize(
    ("make", "priority", "delay"),
    [
        (p1, "P1", dt.timedelta(minutes=2)),
        (p2, "P2", dt.timedelta(minutes=10)),
        (p3, "P3", dt.timedelta(hours=4)),
    ],
)
def test_each_priority_is_escalated_after_its_delay(
    client: Any,
    headers: Headers,
    db: Any,
    clock: Any,
    make: Callable[[str], Sheet],
    priority: str,
    delay: dt.timedelta,
) -> None:
    incident_id = submit(client, headers, make("E-2"), priority)
    escalator = Escalator(db, clock=clock)
    clock.advance(seconds=delay.total_seconds() - 1)
    assert escalator.run_once() == []
    clock.advance(seconds=1)
    assert escalator.run_once() == [incident_id]
    [event] = escalations(db, incident_id)
    assert event.priority == priority
    assert event.envelope["payload"]["delay_seconds"] == delay.total_seconds()


def test_p4_is_never_escalated(client: Any, headers: Headers, db: Any, clock: Any) -> None:
    submit(client, headers, p4("E-3"), "P4")
    escalator = Escalator(db, clock=clock)
    for _ in range(3):
        clock.advance(days=3)
        assert escalator.run_once() == []
    assert escalations(db) == []


def test_acknowledged_p1_is_never_escalated(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    incident_id = submit(client, headers, p1("E-4"), "P1")
    clock.advance(minutes=1)
    acknowledged = client.post(
        f"/api/v1/incidents/{incident_id}/status",
        json={"status": "acknowledged"},
        headers=headers["command_centre"],
    )
    assert acknowledged.status_code == 200
    escalator = Escalator(db, clock=clock)
    clock.advance(minutes=5)
    assert escalator.run_once() == []
    clock.advance(hours=5)
    assert escalator.run_once() == []
    assert escalations(db) == []


def test_withdrawn_p1_is_never_escalated(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    incident_id = submit(client, headers, p1("E-5"), "P1")
    response = client.post(
        f"/api/v1/incidents/{incident_id}/withdrawal", json={}, headers=headers["operator"]
    )
    assert response.status_code == 200
    clock.advance(minutes=3)
    assert Escalator(db, clock=clock).run_once() == []


def test_queued_p1_is_still_unacknowledged(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    incident_id = submit(client, headers, p1("E-6"), "P1")
    with db.transaction() as session:
        outbox.mark_queued(session, [incident_id], clock.now)
    clock.advance(minutes=2)
    assert Escalator(db, clock=clock).run_once() == [incident_id]


def test_amendment_raising_p3_to_p1_escalates_again_as_p1(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    incident_id = submit(client, headers, p3("E-7"), "P3")
    escalator = Escalator(db, clock=clock)
    clock.advance(hours=4)
    assert escalator.run_once() == [incident_id]
    assert escalated_for(db, incident_id) == ["P3"]

    clock.advance(minutes=5)
    # Staff now hold the suspect: P1 whatever the state.
    amended = client.post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json={"suspects": {"status": "held_by_staff"}},
        headers=headers["operator"],
    )
    assert amended.status_code == 200, amended.get_json()
    assert amended.get_json()["priority"] == "P1"

    assert escalator.run_once() == [incident_id]
    assert escalated_for(db, incident_id) == ["P3", "P1"]
    events = escalations(db, incident_id)
    assert [(e.priority, e.envelope["payload"]["delay_seconds"]) for e in events] == [
        ("P3", 4 * 3600),
        ("P1", 120),
    ]
    clock.advance(hours=1)
    assert escalator.run_once() == []


def test_amendment_that_keeps_the_priority_does_not_escalate_again(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    incident_id = submit(client, headers, p1("E-8"), "P1")
    escalator = Escalator(db, clock=clock)
    clock.advance(minutes=2)
    assert escalator.run_once() == [incident_id]
    amended = client.post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json={"witnesses_count": 4},
        headers=headers["operator"],
    )
    assert amended.status_code == 200
    clock.advance(minutes=1)
    assert escalator.run_once() == []
    assert len(escalations(db, incident_id)) == 1


def test_queue_shows_escalated_incidents(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    late = submit(client, headers, p1("E-9"), "P1")
    clock.advance(minutes=1)
    recent = submit(client, headers, p1("E-10"), "P1")
    clock.advance(minutes=1)
    assert Escalator(db, clock=clock).run_once() == [late]
    response = client.get(QUEUE, headers=headers["command_centre"])
    assert response.status_code == 200
    flags = {item["id"]: item["escalated"] for item in response.get_json()["items"]}
    assert flags == {late: True, recent: False}


def test_custom_delays_are_honoured(client: Any, headers: Headers, db: Any, clock: Any) -> None:
    urgent = submit(client, headers, p1("E-11"), "P1")
    urgent_too = submit(client, headers, p2("E-12"), "P2")
    record = submit(client, headers, p4("E-13"), "P4")
    delays = {"P1": dt.timedelta(seconds=30), "P4": dt.timedelta(hours=1)}
    escalator = Escalator(db, delays=delays, clock=clock)

    clock.advance(seconds=29)
    assert escalator.run_once() == []
    clock.advance(seconds=1)
    assert escalator.run_once() == [urgent]
    clock.advance(hours=1)
    # P4 has a delay in this deployment; P2 has none, so it is never escalated.
    assert escalator.run_once() == [record]
    clock.advance(days=1)
    assert escalator.run_once() == []
    assert urgent_too not in {event.incident_id for event in escalations(db)}
    [p4_event] = escalations(db, record)
    assert p4_event.envelope["payload"]["delay_seconds"] == 3600


def test_delays_are_read_from_the_environment(tmp_path: Path) -> None:
    config = Config.from_env(
        {
            "INSTANCE_PATH": str(tmp_path),
            "ESCALATION_P1_SECONDS": "30",
            "ESCALATION_P2_SECONDS": "300",
            "ESCALATION_P3_SECONDS": "3600",
        }
    )
    assert config.embedded
    assert dict(config.escalation_delays) == {
        "P1": dt.timedelta(seconds=30),
        "P2": dt.timedelta(seconds=300),
        "P3": dt.timedelta(hours=1),
    }


def test_missing_delay_settings_keep_the_defaults(tmp_path: Path) -> None:
    config = Config.from_env({"INSTANCE_PATH": str(tmp_path), "ESCALATION_P2_SECONDS": "60"})
    assert dict(config.escalation_delays) == {
        **DEFAULT_ESCALATION_DELAYS,
        "P2": dt.timedelta(minutes=1),
    }


def test_a_delay_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ESCALATION_P1_SECONDS"):
        Config.from_env({"INSTANCE_PATH": str(tmp_path), "ESCALATION_P1_SECONDS": "2min"})


def test_the_escalation_worker_uses_the_configured_delays(
    client: Any, headers: Headers, db: Any, clock: Any, config: Config
) -> None:
    delays = {"P1": dt.timedelta(seconds=30)}
    [worker] = build_workers(
        config.with_overrides({"escalation_delays": delays}), db, ["escalation"]
    )
    assert isinstance(worker, Escalator)
    assert worker.delays == delays
    incident_id = submit(client, headers, p1("E-14"), "P1")
    worker.clock = clock
    clock.advance(seconds=30)
    assert worker.run_once() == [incident_id]


def test_redirected_incident_is_escalated_again_at_its_new_service(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    incident_id = submit(client, headers, p1("E-15"), "P1")
    escalator = Escalator(db, clock=clock)
    clock.advance(minutes=2)
    assert escalator.run_once() == [incident_id]
    clock.advance(minutes=1)
    redirected = client.post(
        f"/api/v1/incidents/{incident_id}/status",
        json={"status": "rejected", "cause": "Zone gendarmerie.", "redirect_to": "ggd-31"},
        headers=headers["command_centre"],
    )
    assert redirected.status_code == 200
    with db.transaction() as session:
        assert session.get(Incident, incident_id).escalated_for is None
    # Still unacknowledged since it was received: the gendarmerie is alerted at once.
    assert escalator.run_once() == [incident_id]
    assert [event.service_code for event in escalations(db, incident_id)] == ["ddsp-31", "ggd-31"]


def test_escalated_incidents_never_crowd_out_the_next_ones(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    """Incidents nobody acknowledges pile up; a batch limit must not hide new overdue ones."""
    from intake_service.command_centre.escalation import escalate_overdue

    first = [submit(client, headers, p1(f"E-PILE-{n}"), "P1") for n in range(3)]
    clock.advance(minutes=2)
    with db.transaction() as session:
        assert escalate_overdue(session, clock.now, batch=2) == first[:2]
    with db.transaction() as session:
        assert escalate_overdue(session, clock.now, batch=2) == first[2:]
    late = submit(client, headers, p1("E-PILE-late"), "P1")
    clock.advance(minutes=2)
    with db.transaction() as session:
        assert escalate_overdue(session, clock.now, batch=2) == [late]
