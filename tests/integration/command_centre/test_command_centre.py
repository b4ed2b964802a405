"""The command centre's queue and its actions on incidents, over HTTP, on SQLite and PostgreSQL.

Incidents in Toulouse (31555) route to ddsp-31 through an imported police-zone
row; Toulon (83137) routes to ddsp-83. Nothing is published: the outbox table
shows what the relay would send.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select

from intake_service.access.tokens import create_token
from intake_service.models import Incident, OutboxEvent
from intake_service.territory import zones
from tests.factories import a_sheet, create_tokens
from workers.periodic import Escalator

PROBLEM = "application/problem+json"
QUEUE = "/api/v1/command-centre/incidents"
ZONES = [
    ("31555", "ddsp-31", "DIPN 31"),
    ("83137", "ddsp-83", "DIPN 83"),
]

Headers = dict[str, dict[str, str]]


@pytest.fixture
def headers(db: Any, clock: Any) -> Headers:
    """Every role of ``create_tokens``, plus the command centres of ggd-31 and ddsp-83."""
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
        for key, scope in (("ggd_31", "ggd-31"), ("ddsp_83", "ddsp-83")):
            secret = create_token(session, "command_centre", scope, f"test {key}", now=clock.now)
            headers[key] = {"Authorization": f"Bearer {secret.secret}"}
    return headers


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def toulouse(reference: str, **changes: Any) -> dict[str, Any]:
    """A sheet in Toulouse: P1 unless ``changes`` say otherwise."""
    sheet = a_sheet(reference, **changes)
    sheet["location"]["insee_code"] = "31555"
    return sheet


def toulon(reference: str) -> dict[str, Any]:
    sheet = a_sheet(reference)
    sheet["location"]["coordinates"] = {"lat": 43.1242, "lon": 5.9280, "source": "gps"}
    sheet["location"]["insee_code"] = "83137"
    return sheet


def p2(reference: str) -> dict[str, Any]:
    return toulouse(reference, state="just_happened")


def p3(reference: str) -> dict[str, Any]:
    return toulouse(reference, state="over")


def p4(reference: str) -> dict[str, Any]:
    return toulouse(reference, state="over", victims=[], video={"exists": "no"})


def submit(client: Any, headers: dict[str, str], sheet: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", json=sheet, headers=headers)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def set_status(client: Any, headers: dict[str, str], incident_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/incidents/{incident_id}/status", json=body, headers=headers)


def queue(client: Any, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    response = client.get(QUEUE + query, headers=headers)
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def events(db: Any, incident_id: str) -> list[OutboxEvent]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.incident_id == incident_id)
                .order_by(OutboxEvent.position)
            )
        )


def stored(db: Any, incident_id: str) -> Incident:
    with db.transaction() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        assert incident.status_changes is not None  # loaded while the session is open
        return incident


def history(body: dict[str, Any]) -> list[str]:
    return [change["status"] for change in body["status_history"]]


# --- the queue ---


def test_sheet_in_toulouse_is_routed_to_ddsp_31(client: Any, headers: Headers) -> None:
    body = submit(client, headers["operator"], toulouse("R-1"))
    assert body["competent_service"] == {"kind": "police", "code": "ddsp-31", "name": "DIPN 31"}
    assert body["priority"] == "P1"


def test_queue_orders_by_priority_then_rank_then_most_recent(
    client: Any, headers: Headers, clock: Any
) -> None:
    op = headers["operator"]
    ids: dict[str, str] = {}

    def add(name: str, sheet: dict[str, Any]) -> None:
        ids[name] = submit(client, op, sheet)["id"]
        clock.advance(minutes=1)

    add("p1_hospitalised", toulouse("Q-1", injuries={"count": 1, "severity": "hospitalised"}))
    add("p4", p4("Q-2"))
    add("p1_old", toulouse("Q-3"))
    add("p3", p3("Q-4"))
    add("p2", p2("Q-5"))
    add("p1_blade", toulouse("Q-6", suspects={"count": 1, "status": "on_site", "weapon": "blade"}))
    add("p1_new", toulouse("Q-7"))

    items = queue(client, headers["command_centre"])
    names = {incident_id: name for name, incident_id in ids.items()}
    assert [names.get(item["id"], item["id"]) for item in items] == [
        "p1_blade",  # weapon first, though older than p1_new
        "p1_hospitalised",  # then the worst injury, though the oldest
        "p1_new",  # same rank: most recent first
        "p1_old",
        "p2",
        "p3",
        "p4",
    ]
    assert [item["priority"] for item in items] == ["P1", "P1", "P1", "P1", "P2", "P3", "P4"]
    first = items[0]
    assert first["operator"] == "tisseo"
    assert first["service_code"] == "ddsp-31"
    assert first["status"] == "received"
    assert first["escalated"] is False


def test_queue_lists_only_the_services_open_incidents(client: Any, headers: Headers) -> None:
    op, cic = headers["operator"], headers["command_centre"]
    open_one = submit(client, op, toulouse("O-1"))["id"]
    acknowledged = submit(client, op, toulouse("O-2"))["id"]
    assert set_status(client, cic, acknowledged, status="acknowledged").status_code == 200
    dispatched = submit(client, op, toulouse("O-3"))["id"]
    assert set_status(client, cic, dispatched, status="acknowledged").status_code == 200
    assert set_status(client, cic, dispatched, status="dispatched").status_code == 200
    closed = submit(client, op, toulouse("O-4"))["id"]
    assert set_status(client, cic, closed, status="acknowledged").status_code == 200
    assert (
        set_status(
            client, cic, closed, status="closed", outcome="arrest", comment="Interpellé."
        ).status_code
        == 200
    )
    withdrawn = submit(client, op, toulouse("O-5"))["id"]
    response = client.post(f"/api/v1/incidents/{withdrawn}/withdrawal", json={}, headers=op)
    assert response.status_code == 200
    rejected = submit(client, op, toulouse("O-6"))["id"]
    assert set_status(client, cic, rejected, status="rejected", cause="x").status_code == 200
    in_toulon = submit(client, op, toulon("O-7"))["id"]

    listed = {item["id"] for item in queue(client, cic)}
    assert listed == {open_one, acknowledged, dispatched}
    # Toulon's incident is in ddsp-83's queue, and only there.
    assert [item["id"] for item in queue(client, headers["ddsp_83"])] == [in_toulon]


def test_queue_filters_by_status_and_priority(client: Any, headers: Headers) -> None:
    op, cic = headers["operator"], headers["command_centre"]
    p1_id = submit(client, op, toulouse("F-1"))["id"]
    p2_id = submit(client, op, p2("F-2"))["id"]
    p4_id = submit(client, op, p4("F-3"))["id"]
    assert set_status(client, cic, p2_id, status="acknowledged").status_code == 200

    assert [i["id"] for i in queue(client, cic, "?status=acknowledged")] == [p2_id]
    assert [i["id"] for i in queue(client, cic, "?status=received")] == [p1_id, p4_id]
    assert [i["id"] for i in queue(client, cic, "?priority=P4")] == [p4_id]
    both = queue(client, cic, "?priority=P1&priority=P2")
    assert [i["id"] for i in both] == [p1_id, p2_id]
    assert queue(client, cic, "?status=acknowledged&priority=P1") == []
    assert [i["id"] for i in queue(client, cic, "?limit=1")] == [p1_id]


@pytest.mark.parametrize(
    ("query", "field"),
    [("?status=closed", "status.0"), ("?priority=P5", "priority.0"), ("?limit=0", "limit")],
)
def test_queue_refuses_bad_filters(client: Any, headers: Headers, query: str, field: str) -> None:
    response = client.get(QUEUE + query, headers=headers["command_centre"])
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert [error["field"] for error in response.get_json()["errors"]] == [field]


def test_queue_flags_escalated_incidents(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    op = headers["operator"]
    late = submit(client, op, toulouse("E-1"))["id"]
    fresh = submit(client, op, p2("E-2"))["id"]
    clock.advance(minutes=2)
    assert Escalator(db, clock=clock).run_once() == [late]
    flags = {item["id"]: item["escalated"] for item in queue(client, headers["command_centre"])}
    assert flags == {late: True, fresh: False}


# --- acknowledge, dispatch, close ---


def test_acknowledge_dispatch_close_records_each_step(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    op, cic = headers["operator"], headers["command_centre"]
    incident_id = submit(client, op, toulouse("L-1"))["id"]
    submitted_at = clock.now

    clock.advance(seconds=40)
    acknowledged = set_status(client, cic, incident_id, status="acknowledged")
    assert acknowledged.status_code == 200
    assert acknowledged.get_json()["status"] == "acknowledged"
    assert stored(db, incident_id).acknowledged_at == submitted_at + dt.timedelta(seconds=40)

    clock.advance(minutes=1)
    dispatched = set_status(client, cic, incident_id, status="dispatched", call_sign="TV 31-12")
    assert dispatched.status_code == 200
    assert dispatched.get_json()["status"] == "dispatched"

    clock.advance(minutes=20)
    closed = set_status(
        client, cic, incident_id, status="closed", outcome="arrest", comment="Un interpellé."
    )
    assert closed.status_code == 200
    body = closed.get_json()
    assert body["status"] == "closed"
    assert history(body) == ["received", "acknowledged", "dispatched", "closed"]
    steps = body["status_history"][1:]
    assert all(step["author_role"] == "command_centre" for step in steps)
    assert all(step["author"].endswith("(test command_centre)") for step in steps)
    assert [step["detail"] for step in steps] == [
        {},
        {"call_sign": "TV 31-12"},
        {"outcome": "arrest", "comment": "Un interpellé."},
    ]
    assert [step["at"] for step in steps] == [
        "2026-03-14T17:30:40+00:00",
        "2026-03-14T17:31:40+00:00",
        "2026-03-14T17:51:40+00:00",
    ]
    # Closing does not move the acknowledgement time.
    assert stored(db, incident_id).acknowledged_at == submitted_at + dt.timedelta(seconds=40)

    outbox = events(db, incident_id)
    assert [event.event_type for event in outbox] == [
        "incident.submitted",
        "incident.status_changed",
        "incident.status_changed",
        "incident.status_changed",
    ]
    assert all(event.service_code == "ddsp-31" for event in outbox)
    payloads = [event.envelope["payload"] for event in outbox[1:]]
    assert [(p["status"], p["detail"]) for p in payloads] == [
        ("acknowledged", {}),
        ("dispatched", {"call_sign": "TV 31-12"}),
        ("closed", {"outcome": "arrest", "comment": "Un interpellé."}),
    ]
    assert [p["incident"]["status"] for p in payloads] == ["acknowledged", "dispatched", "closed"]

    seen = client.get(f"/api/v1/incidents/{incident_id}", headers=op)
    assert seen.status_code == 200
    assert seen.get_json()["status"] == "closed"
    # The operator sees the steps and the outcome, not the desk, call sign or comment.
    operator_view = seen.get_json()["status_history"]
    assert [(c["status"], c["at"]) for c in operator_view] == [
        (c["status"], c["at"]) for c in body["status_history"]
    ]
    police_steps = operator_view[1:]
    assert [c["author"] for c in police_steps] == ["command_centre"] * 3
    assert [c["detail"] for c in police_steps] == [{}, {}, {"outcome": "arrest"}]
    assert body["status_history"][2]["detail"]["call_sign"]  # the command centre sees it all


def test_acknowledge_a_queued_incident(client: Any, headers: Headers, db: Any, clock: Any) -> None:
    from intake_service.feed import outbox

    incident_id = submit(client, headers["operator"], toulouse("L-2"))["id"]
    with db.transaction() as session:
        outbox.mark_queued(session, [incident_id], clock.now)
    response = set_status(client, headers["command_centre"], incident_id, status="acknowledged")
    assert response.status_code == 200
    assert history(response.get_json()) == ["received", "queued", "acknowledged"]


def test_close_straight_after_acknowledgement_without_dispatch(
    client: Any, headers: Headers
) -> None:
    cic = headers["command_centre"]
    incident_id = submit(client, headers["operator"], toulouse("L-3"))["id"]
    assert set_status(client, cic, incident_id, status="acknowledged").status_code == 200
    response = set_status(
        client, cic, incident_id, status="closed", outcome="false_alarm", comment="Rien."
    )
    assert response.status_code == 200
    assert history(response.get_json()) == ["received", "acknowledged", "closed"]


# --- invalid transitions ---


def assert_conflict(response: Any) -> None:
    assert response.status_code == 409
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == 409
    assert body["type"].endswith("/invalid-transition")


def test_dispatch_before_acknowledge_answers_409(client: Any, headers: Headers, db: Any) -> None:
    incident_id = submit(client, headers["operator"], toulouse("T-1"))["id"]
    response = set_status(
        client, headers["command_centre"], incident_id, status="dispatched", call_sign="TV 1"
    )
    assert_conflict(response)
    assert "received" in response.get_json()["detail"]
    assert stored(db, incident_id).status == "received"
    assert [e.event_type for e in events(db, incident_id)] == ["incident.submitted"]


def test_close_a_closed_incident_answers_409(client: Any, headers: Headers, db: Any) -> None:
    cic = headers["command_centre"]
    incident_id = submit(client, headers["operator"], toulouse("T-2"))["id"]
    assert set_status(client, cic, incident_id, status="acknowledged").status_code == 200
    assert (
        set_status(
            client, cic, incident_id, status="closed", outcome="arrest", comment="Interpellé."
        ).status_code
        == 200
    )
    assert_conflict(
        set_status(client, cic, incident_id, status="closed", outcome="duplicate", comment="x")
    )
    assert_conflict(set_status(client, cic, incident_id, status="acknowledged"))
    assert_conflict(set_status(client, cic, incident_id, status="rejected", cause="x"))
    detail = stored(db, incident_id).status_changes[-1].detail
    assert detail == {"outcome": "arrest", "comment": "Interpellé."}


def test_acknowledge_twice_answers_409(client: Any, headers: Headers) -> None:
    cic = headers["command_centre"]
    incident_id = submit(client, headers["operator"], toulouse("T-3"))["id"]
    assert set_status(client, cic, incident_id, status="acknowledged").status_code == 200
    assert_conflict(set_status(client, cic, incident_id, status="acknowledged"))


def test_acknowledge_a_withdrawn_incident_answers_409(client: Any, headers: Headers) -> None:
    op = headers["operator"]
    incident_id = submit(client, op, toulouse("T-4"))["id"]
    withdrawal = client.post(
        f"/api/v1/incidents/{incident_id}/withdrawal", json={"reason": "Erreur."}, headers=op
    )
    assert withdrawal.status_code == 200
    assert_conflict(
        set_status(client, headers["command_centre"], incident_id, status="acknowledged")
    )


def test_operator_cannot_withdraw_after_acknowledgement(
    client: Any, headers: Headers, db: Any
) -> None:
    op = headers["operator"]
    incident_id = submit(client, op, toulouse("T-5"))["id"]
    assert (
        set_status(client, headers["command_centre"], incident_id, status="acknowledged")
    ).status_code == 200
    response = client.post(f"/api/v1/incidents/{incident_id}/withdrawal", json={}, headers=op)
    assert_conflict(response)
    assert stored(db, incident_id).status == "acknowledged"


# --- bad bodies ---


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"status": "closed"}, {"outcome", "comment"}),
        ({"status": "rejected"}, {"cause_code"}),
        ({"status": "rejected", "cause_code": "other"}, {"cause"}),
        ({"status": "rejected", "cause_code": "bored"}, {"cause_code"}),
        ({"status": "acknowledged", "cause_code": "duplicate"}, {"cause_code"}),
        ({"status": "closed", "outcome": "solved", "comment": "x"}, {"outcome"}),
        ({"status": "acknowledged", "call_sign": "TV 1"}, {"call_sign"}),
        ({"status": "acknowledged", "outcome": "arrest"}, {"outcome"}),
        ({"status": "dispatched", "redirect_to": "ggd-31"}, {"redirect_to"}),
        ({"status": "escalated"}, {"status"}),
        ({"status": "received"}, {"status"}),
        ({"status": "acknowledged", "note": "x"}, {"note"}),
        ({}, {"status"}),
        ({"status": "dispatched", "call_sign": ""}, {"call_sign"}),
        ({"status": "rejected", "cause": "x", "redirect_to": "GGD 31"}, {"redirect_to"}),
    ],
)
def test_bad_status_bodies_answer_422_naming_the_fields(
    client: Any, headers: Headers, db: Any, body: dict[str, Any], fields: set[str]
) -> None:
    incident_id = submit(client, headers["operator"], toulouse("B-1"))["id"]
    response = set_status(client, headers["command_centre"], incident_id, **body)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert {error["field"] for error in response.get_json()["errors"]} == fields
    assert stored(db, incident_id).status == "received"


# --- rejection and re-routing ---


def test_rejection_with_a_cause_returns_the_incident_to_the_operator(
    client: Any, headers: Headers, db: Any
) -> None:
    op, cic = headers["operator"], headers["command_centre"]
    incident_id = submit(client, op, toulouse("J-1"))["id"]
    response = set_status(client, cic, incident_id, status="rejected", cause="Pas une infraction.")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "rejected"
    assert body["competent_service"]["code"] == "ddsp-31"
    # A text alone (a client written before the codes) is recorded as "other".
    assert body["status_history"][-1]["detail"] == {
        "cause_code": "other",
        "cause": "Pas une infraction.",
    }

    seen = client.get(f"/api/v1/incidents/{incident_id}", headers=op).get_json()
    assert seen["status"] == "rejected"
    assert seen["status_history"][-1]["author_role"] == "command_centre"
    assert seen["status_history"][-1]["detail"]["cause_code"] == "other"
    assert queue(client, cic) == []
    last = events(db, incident_id)[-1]
    assert last.event_type == "incident.status_changed"
    assert last.envelope["payload"]["detail"] == {
        "cause_code": "other",
        "cause": "Pas une infraction.",
    }


def test_a_coded_rejection_reaches_the_operator_as_its_code(
    client: Any, headers: Headers, db: Any
) -> None:
    op, cic = headers["operator"], headers["command_centre"]
    incident_id = submit(client, op, toulouse("J-3"))["id"]
    response = set_status(
        client, cic, incident_id, status="rejected", cause_code="insufficient_information"
    )
    assert response.status_code == 200
    seen = client.get(f"/api/v1/incidents/{incident_id}", headers=op).get_json()
    assert seen["status_history"][-1]["detail"] == {"cause_code": "insufficient_information"}
    assert events(db, incident_id)[-1].envelope["payload"]["detail"] == {
        "cause_code": "insufficient_information"
    }


def test_rejection_with_redirect_reroutes_to_the_gendarmerie(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    op, cic, ggd = headers["operator"], headers["command_centre"], headers["ggd_31"]
    incident_id = submit(client, op, toulouse("J-2"))["id"]
    assert set_status(client, cic, incident_id, status="acknowledged").status_code == 200
    clock.advance(minutes=1)

    response = set_status(
        client,
        cic,
        incident_id,
        status="rejected",
        cause_code="outside_territory",
        cause="Zone gendarmerie.",
        redirect_to="ggd-31",
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "received"
    assert body["competent_service"] == {
        "kind": "gendarmerie",
        "code": "ggd-31",
        "name": "Groupement de gendarmerie départementale 31",
    }
    assert history(body) == ["received", "acknowledged", "rejected", "received"]
    assert body["status_history"][2]["detail"] == {
        "cause_code": "outside_territory",
        "cause": "Zone gendarmerie.",
        "redirect_to": "ggd-31",
    }
    assert body["status_history"][3]["detail"] == {"rerouted_to": "ggd-31"}
    assert stored(db, incident_id).acknowledged_at is None

    outbox = events(db, incident_id)
    assert [(e.event_type, e.service_code) for e in outbox] == [
        ("incident.submitted", "ddsp-31"),
        ("incident.status_changed", "ddsp-31"),
        ("incident.status_changed", "ddsp-31"),
        ("incident.submitted", "ggd-31"),
    ]
    assert outbox[2].envelope["payload"]["status"] == "rejected"
    resubmitted = outbox[3].envelope["payload"]["incident"]
    assert resubmitted["competent_service"]["code"] == "ggd-31"
    assert resubmitted["status"] == "received"

    # Now the gendarmerie's, and no longer the police's.
    assert client.get(f"/api/v1/incidents/{incident_id}", headers=ggd).status_code == 200
    assert [item["id"] for item in queue(client, ggd)] == [incident_id]
    assert set_status(client, ggd, incident_id, status="acknowledged").status_code == 200
    assert client.get(f"/api/v1/incidents/{incident_id}", headers=cic).status_code == 404
    assert set_status(client, cic, incident_id, status="dispatched").status_code == 404
    assert queue(client, cic) == []
    # The operator follows its sheet wherever it goes.
    assert client.get(f"/api/v1/incidents/{incident_id}", headers=op).status_code == 200


def test_rejection_with_redirect_to_another_police_service(
    client: Any, headers: Headers, db: Any
) -> None:
    incident_id = submit(client, headers["operator"], toulouse("J-3"))["id"]
    response = set_status(
        client,
        headers["command_centre"],
        incident_id,
        status="rejected",
        cause="Toulon.",
        redirect_to="ddsp-83",
    )
    assert response.status_code == 200
    assert response.get_json()["competent_service"] == {
        "kind": "police",
        "code": "ddsp-83",
        "name": "DIPN 83",
    }
    assert [item["id"] for item in queue(client, headers["ddsp_83"])] == [incident_id]


@pytest.mark.parametrize(
    "redirect_to",
    [
        "ddsp-99",  # no such police service in the zone table
        "ddsp-31",  # the same service
        "ggd-99",  # no such département
    ],
)
def test_redirect_to_an_unknown_or_the_same_service_answers_422(
    client: Any, headers: Headers, db: Any, redirect_to: str
) -> None:
    incident_id = submit(client, headers["operator"], toulouse("J-4"))["id"]
    response = set_status(
        client,
        headers["command_centre"],
        incident_id,
        status="rejected",
        cause="Pas compétent.",
        redirect_to=redirect_to,
    )
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert [error["field"] for error in response.get_json()["errors"]] == ["redirect_to"]
    incident = stored(db, incident_id)
    assert (incident.status, incident.service_code) == ("received", "ddsp-31")
    assert [e.event_type for e in events(db, incident_id)] == ["incident.submitted"]


# --- access ---


@pytest.mark.parametrize("role", ["operator", "gpo_referent", "station_officer", "admin"])
def test_other_roles_may_not_use_the_queue_or_change_a_status(
    client: Any, headers: Headers, db: Any, role: str
) -> None:
    incident_id = submit(client, headers["operator"], toulouse("A-1"))["id"]
    listing = client.get(QUEUE, headers=headers[role])
    assert listing.status_code == 403
    assert listing.mimetype == PROBLEM
    change = set_status(client, headers[role], incident_id, status="acknowledged")
    assert change.status_code == 403
    assert change.mimetype == PROBLEM
    assert stored(db, incident_id).status == "received"


def test_another_services_command_centre_gets_404(client: Any, headers: Headers, db: Any) -> None:
    incident_id = submit(client, headers["operator"], toulouse("A-2"))["id"]
    other = headers["ddsp_83"]
    for response in (
        set_status(client, other, incident_id, status="acknowledged"),
        client.get(f"/api/v1/incidents/{incident_id}", headers=other),
        client.get(f"/api/v1/incidents/{incident_id}/versions", headers=other),
    ):
        assert response.status_code == 404
        assert response.mimetype == PROBLEM
    assert stored(db, incident_id).status == "received"


def test_unknown_incident_id_answers_404(client: Any, headers: Headers) -> None:
    cic = headers["command_centre"]
    for incident_id in ("not-a-uuid", "00000000-0000-4000-8000-000000000000"):
        assert set_status(client, cic, incident_id, status="acknowledged").status_code == 404


def test_no_token_answers_401(client: Any, headers: Headers) -> None:
    incident_id = submit(client, headers["operator"], toulouse("A-3"))["id"]
    for response in (
        client.get(QUEUE),
        set_status(client, {}, incident_id, status="acknowledged"),
        client.get(f"/api/v1/incidents/{incident_id}"),
    ):
        assert response.status_code == 401
        assert response.mimetype == PROBLEM


def test_command_centre_reads_its_services_incident_and_versions(
    client: Any, headers: Headers
) -> None:
    op, cic = headers["operator"], headers["command_centre"]
    incident_id = submit(client, op, p3("A-4"))["id"]
    amended = client.post(
        f"/api/v1/incidents/{incident_id}/amendments", json={"witnesses_count": 5}, headers=op
    )
    assert amended.status_code == 200
    read = client.get(f"/api/v1/incidents/{incident_id}", headers=cic)
    assert read.status_code == 200
    assert read.get_json()["sheet"]["witnesses_count"] == 5
    versions = client.get(f"/api/v1/incidents/{incident_id}/versions", headers=cic)
    assert versions.status_code == 200
    items = versions.get_json()["items"]
    assert [(v["version"], v["changed_paths"]) for v in items] == [
        (1, []),
        (2, ["witnesses_count"]),
    ]
    # Reading is not acting: the command centre may not amend or withdraw.
    assert (
        client.post(
            f"/api/v1/incidents/{incident_id}/amendments", json={"witnesses_count": 6}, headers=cic
        ).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/incidents/{incident_id}/withdrawal", json={}, headers=cic)
    ).status_code == 403


# --- concurrency (PostgreSQL) ---


def race(app: Any, requests: list[tuple[str, dict[str, str], dict[str, Any]]]) -> list[int]:
    """POST each (path, headers, body) from its own thread, all released at once."""
    barrier = threading.Barrier(len(requests))
    codes: list[int] = [0] * len(requests)

    def run(index: int, path: str, request_headers: dict[str, str], body: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait(timeout=10)
        codes[index] = client.post(path, json=body, headers=request_headers).status_code

    threads = [
        threading.Thread(target=run, args=(index, *request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return codes


@pytest.fixture
def on_postgres(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): no race to observe")


@pytest.mark.usefixtures("on_postgres")
def test_two_concurrent_acknowledgements_one_wins(
    app: Any, client: Any, headers: Headers, db: Any
) -> None:
    for attempt in range(5):
        incident_id = submit(client, headers["operator"], toulouse(f"C-{attempt}"))["id"]
        path = f"/api/v1/incidents/{incident_id}/status"
        body = {"status": "acknowledged"}
        codes = race(app, [(path, headers["command_centre"], body)] * 2)
        assert sorted(codes) == [200, 409]
        incident = stored(db, incident_id)
        assert [change.status for change in incident.status_changes] == [
            "received",
            "acknowledged",
        ]
        kinds = [e.event_type for e in events(db, incident_id)]
        assert kinds == ["incident.submitted", "incident.status_changed"]


@pytest.mark.usefixtures("on_postgres")
def test_concurrent_acknowledgement_and_withdrawal_one_wins(
    app: Any, client: Any, headers: Headers, db: Any
) -> None:
    for attempt in range(5):
        incident_id = submit(client, headers["operator"], toulouse(f"W-{attempt}"))["id"]
        codes = race(
            app,
            [
                (
                    f"/api/v1/incidents/{incident_id}/status",
                    headers["command_centre"],
                    {"status": "acknowledged"},
                ),
                (f"/api/v1/incidents/{incident_id}/withdrawal", headers["operator"], {}),
            ],
        )
        assert sorted(codes) == [200, 409]
        incident = stored(db, incident_id)
        winner = "acknowledged" if codes[0] == 200 else "withdrawn"
        assert incident.status == winner
        assert [change.status for change in incident.status_changes] == ["received", winner]
