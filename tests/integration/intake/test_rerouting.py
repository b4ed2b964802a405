"""Where an incident goes when its place is amended or it is returned, and when unrouted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from intake_service.access.tokens import create_token
from intake_service.models import OutboxEvent
from intake_service.territory import zones
from tests.factories import a_sheet, create_tokens

TOULOUSE = {"mode": 3, "place": "surroundings", "insee_code": "31555"}
TOULON = {"mode": 3, "place": "surroundings", "insee_code": "83137"}


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(
            session, [("31555", "ddsp-31", "DIPN 31"), ("83137", "ddsp-83", "DIPN 83")]
        )
        for scope in ("ddsp-83", "unrouted"):
            secret = create_token(
                session, "command_centre", scope, f"cic {scope}", now=clock.now
            ).secret
            headers[scope] = {"Authorization": f"Bearer {secret}"}
    return headers


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def submit(
    client: Any, headers: dict[str, str], reference: str, location: dict[str, Any]
) -> dict[str, Any]:
    sheet = a_sheet(reference, state="over", location=location)
    response = client.post("/api/v1/incidents", json=sheet, headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def events(db: Any, incident_id: str) -> list[tuple[str, str | None]]:
    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.incident_id == incident_id)
            .order_by(OutboxEvent.position)
        )
        return [(row.event_type, row.service_code) for row in rows]


def amend(
    client: Any, headers: dict[str, str], incident_id: str, patch: dict[str, Any]
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/incidents/{incident_id}/amendments", json=patch, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def test_a_moved_place_before_acknowledgement_moves_the_incident(client, headers, db):
    incident = submit(client, headers["operator"], "MOVE-1", TOULOUSE)
    moved = amend(client, headers["operator"], incident["id"], {"location": TOULON})
    assert moved["competent_service"]["code"] == "ddsp-83"
    assert moved["status"] == "received"
    assert events(db, incident["id"]) == [
        ("incident.submitted", "ddsp-31"),
        ("incident.amended", "ddsp-31"),  # the first service learns where it went
        ("incident.submitted", "ddsp-83"),
    ]
    url = f"/api/v1/incidents/{incident['id']}"
    assert client.get(url, headers=headers["ddsp-83"]).status_code == 200
    assert client.get(url, headers=headers["command_centre"]).status_code == 404


def test_after_acknowledgement_the_incident_stays_with_its_command_centre(client, headers, db):
    incident = submit(client, headers["operator"], "MOVE-2", TOULOUSE)
    url = f"/api/v1/incidents/{incident['id']}"
    ack = client.post(
        f"{url}/status", json={"status": "acknowledged"}, headers=headers["command_centre"]
    )
    assert ack.status_code == 200
    amended = amend(client, headers["operator"], incident["id"], {"location": TOULON})
    assert amended["competent_service"]["code"] == "ddsp-31"
    assert amended["status"] == "acknowledged"
    assert events(db, incident["id"])[-1] == ("incident.amended", "ddsp-31")


def test_a_redirected_incident_stays_where_it_was_sent(client, headers, db):
    incident = submit(client, headers["operator"], "MOVE-3", TOULOUSE)
    url = f"/api/v1/incidents/{incident['id']}"
    redirect = {"status": "rejected", "cause": "Compétence Var.", "redirect_to": "ddsp-83"}
    assert (
        client.post(f"{url}/status", json=redirect, headers=headers["command_centre"]).status_code
        == 200
    )
    amended = amend(client, headers["operator"], incident["id"], {"witnesses_count": 9})
    assert amended["competent_service"]["code"] == "ddsp-83"
    assert events(db, incident["id"])[-1] == ("incident.amended", "ddsp-83")


def test_a_returned_sheet_is_sent_again_once_amended(client, headers, db):
    incident = submit(client, headers["operator"], "BACK-1", TOULOUSE)
    url = f"/api/v1/incidents/{incident['id']}"
    returned = {"status": "rejected", "cause": "Lieu erroné : ce n'est pas à Toulouse."}
    assert (
        client.post(f"{url}/status", json=returned, headers=headers["command_centre"]).status_code
        == 200
    )
    again = amend(client, headers["operator"], incident["id"], {"location": TOULON})
    assert again["status"] == "received"
    assert again["competent_service"]["code"] == "ddsp-83"
    assert [c["status"] for c in again["status_history"]] == ["received", "rejected", "received"]
    assert events(db, incident["id"])[-1] == ("incident.submitted", "ddsp-83")
    queue = client.get("/api/v1/command-centre/incidents", headers=headers["ddsp-83"]).get_json()
    assert [item["id"] for item in queue["items"]] == [incident["id"]]


def test_the_fallback_desk_works_unrouted_incidents(client, headers, db):
    incident = submit(
        client, headers["operator"], "LOST-1", {"mode": 3, "place": "other", "insee_code": "99999"}
    )
    assert incident["competent_service"] is None
    desk = headers["unrouted"]
    queue = client.get("/api/v1/command-centre/incidents", headers=desk).get_json()
    assert [item["id"] for item in queue["items"]] == [incident["id"]]
    url = f"/api/v1/incidents/{incident['id']}"
    assert client.get(url, headers=desk).status_code == 200
    assert client.get(url, headers=headers["command_centre"]).status_code == 404
    sent = client.post(
        f"{url}/status",
        json={
            "status": "rejected",
            "cause": "Commune retrouvée : Toulouse.",
            "redirect_to": "ddsp-31",
        },
        headers=desk,
    )
    assert sent.status_code == 200
    assert sent.get_json()["competent_service"]["code"] == "ddsp-31"
    assert events(db, incident["id"])[-1] == ("incident.submitted", "ddsp-31")
