"""CCTV requisitions over HTTP, on SQLite and PostgreSQL: scoping (404), roles (403),
If-Match (428, 412), steps refused (409) or incomplete (422) with the field named, the
feed event, the operator's webhook, the conversation's message, the audit log."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from intake_service.access import retention
from intake_service.access.rules.permissions import Principal
from intake_service.feed import webhooks
from intake_service.models import (
    AuditEntry,
    CctvRequisition,
    IncidentMessage,
    Operator,
    OutboxEvent,
    WebhookDelivery,
)
from schemas.messages import EnvelopeSchema
from schemas.sheet import evaluated_at
from tests.appointment_data import add_station
from tests.conftest import REFERENCE_INSTANT
from tests.factories import submit_in_toulouse

PROBLEM = "application/problem+json"
Headers = dict[str, dict[str, str]]


@pytest.fixture
def headers(headers: Headers, db: Any, clock: Any) -> Headers:
    """The package's, and a station of ddsp-31 (csp-toulouse): its officer requests too."""
    add_station(db, clock.now)
    return headers


def requisitions_of(incident_id: str) -> str:
    return f"/api/v1/incidents/{incident_id}/cctv-requisitions"


def request_footage(client: Any, headers: dict[str, str], incident_id: str) -> Any:
    return client.post(
        requisitions_of(incident_id),
        json={"what": "Caméras embarquées du bus 1742, 18 h 15 – 18 h 40"},
        headers=headers,
    )


def step(client: Any, requisition_id: str, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        f"/api/v1/cctv-requisitions/{requisition_id}/transitions",
        json=body,
        headers=headers,
    )


def with_tag(headers: dict[str, str], version: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


def test_a_requisition_is_requested_extracted_and_handed_over(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    with db.transaction() as session:
        operator = session.scalars(select(Operator).where(Operator.code == "tisseo")).one()
        webhooks.register(
            session,
            Principal("operator", "tisseo", "test"),
            operator.id,
            "https://hooks.example.org/intake",
            now=clock.now,
            allow_private=True,
        )
    asked = request_footage(client, headers["command_centre"], incident_id)
    assert asked.status_code == 201, asked.get_json()
    requisition = asked.get_json()
    assert asked.headers["ETag"] == '"1"'
    assert asked.headers["Location"].endswith(f"/api/v1/cctv-requisitions/{requisition['id']}")
    assert requisition["state"] == "requested"
    # The sheet's erase date, snapshot at the request.
    assert requisition["erase_deadline"] == "2026-03-21T17:24:00+00:00"
    assert requisition["requested_by"]["organisation"] == "ddsp-31"

    # The operator is told in the conversation.
    conversation = client.get(
        f"/api/v1/incidents/{incident_id}/messages", headers=headers["operator"]
    ).get_json()
    assert "Réquisition des images" in conversation["messages"][0]["text"]

    listed = client.get(requisitions_of(incident_id), headers=headers["operator"])
    assert listed.status_code == 200
    assert [item["id"] for item in listed.get_json()["items"]] == [requisition["id"]]

    clock.advance(hours=3)
    done = step(
        client,
        requisition["id"],
        with_tag(headers["operator"], 1),
        state="extracted",
        extraction_reference="EXT-2026-0042",
    )
    assert done.status_code == 200, done.get_json()
    assert done.headers["ETag"] == '"2"'
    assert done.get_json()["extracted_in_time"] is True
    handed = step(
        client,
        requisition["id"],
        with_tag(headers["operator"], 2),
        state="handed_over",
        handed_over_to="Brigadier Martin, CSP Toulouse",
    )
    assert handed.status_code == 200, handed.get_json()
    assert handed.get_json()["state"] == "handed_over"
    assert handed.get_json()["closed_at"] is not None

    read = client.get(
        f"/api/v1/cctv-requisitions/{requisition['id']}", headers=headers["command_centre"]
    )
    assert read.status_code == 200
    assert read.get_json()["handed_over_to"] == "Brigadier Martin, CSP Toulouse"

    with db.reading() as session:
        events = session.scalars(
            select(OutboxEvent.envelope)
            .where(
                OutboxEvent.incident_id == incident_id,
                OutboxEvent.event_type == "incident.cctv_requisition_changed",
            )
            .order_by(OutboxEvent.position)
        ).all()
        deliveries = session.scalars(
            select(WebhookDelivery.payload).where(WebhookDelivery.incident_id == incident_id)
        ).all()
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.resource_id == incident_id)
        ).all()
        posted = session.scalars(
            select(IncidentMessage).where(IncidentMessage.incident_id == incident_id)
        ).all()
    with evaluated_at(REFERENCE_INSTANT):  # the sheet's rules, as when it was sent
        for envelope in events:  # the documented envelope, as a consumer reads it
            assert EnvelopeSchema().validate(envelope) == {}
    assert [e["payload"]["cctv_requisition"]["state"] for e in events] == [
        "requested",
        "extracted",
        "handed_over",
    ]
    changes = [d for d in deliveries if d["type"] == "incident.cctv_requisition_changed"]
    assert [d["cctv_requisition"]["state"] for d in changes] == [
        "requested",
        "extracted",
        "handed_over",
    ]
    assert "incident.cctv.request" in actions
    assert actions.count("incident.cctv.step") == 2
    assert "incident.cctv.read" in actions
    assert len(posted) == 1


def test_scope_and_roles(client: Any, headers: Headers) -> None:
    incident_id = submit_in_toulouse(client, headers)
    assert request_footage(client, headers["ddsp_83"], incident_id).status_code == 404
    assert request_footage(client, headers["operator"], incident_id).status_code == 403
    for role in ("gpo_referent", "gpo_partner", "admin"):
        assert request_footage(client, headers[role], incident_id).status_code == 403, role
        assert client.get(requisitions_of(incident_id), headers=headers[role]).status_code == 403
    # A station officer of the incident's service requests; its request names the station.
    asked = request_footage(client, headers["station_officer"], incident_id)
    assert asked.status_code == 201, asked.get_json()
    requisition_id = asked.get_json()["id"]
    assert asked.get_json()["requested_by"]["role"] == "station_officer"
    for key in ("ddsp_83", "other_operator"):
        assert client.get(requisitions_of(incident_id), headers=headers[key]).status_code == 404
        one = client.get(f"/api/v1/cctv-requisitions/{requisition_id}", headers=headers[key])
        assert one.status_code == 404
        assert one.mimetype == PROBLEM
    foreign = step(
        client, requisition_id, with_tag(headers["other_operator"], 1), state="refused", reason="x"
    )
    assert foreign.status_code == 404
    # The police side does not answer its own requisition.
    police = step(
        client, requisition_id, with_tag(headers["command_centre"], 1), state="refused", reason="x"
    )
    assert police.status_code == 403
    assert (
        client.get("/api/v1/cctv-requisitions/not-a-uuid", headers=headers["operator"]).status_code
        == 404
    )


def test_if_match_is_required_and_checked(client: Any, headers: Headers) -> None:
    incident_id = submit_in_toulouse(client, headers)
    requisition_id = request_footage(client, headers["command_centre"], incident_id).get_json()[
        "id"
    ]
    body = {"state": "extracted", "extraction_reference": "EXT-1"}
    missing = step(client, requisition_id, headers["operator"], **body)
    assert missing.status_code == 428
    assert missing.mimetype == PROBLEM
    assert missing.get_json()["errors"][0]["field"] == "If-Match"
    stale = step(client, requisition_id, with_tag(headers["operator"], 7), **body)
    assert stale.status_code == 412
    assert stale.get_json()["current_version"] == 1
    weak = step(client, requisition_id, {**headers["operator"], "If-Match": 'W/"1"'}, **body)
    assert weak.status_code == 412
    assert step(client, requisition_id, with_tag(headers["operator"], 1), **body).status_code == 200


def test_steps_refused_name_their_field(client: Any, headers: Headers) -> None:
    incident_id = submit_in_toulouse(client, headers)
    requisition_id = request_footage(client, headers["command_centre"], incident_id).get_json()[
        "id"
    ]
    tagged = with_tag(headers["operator"], 1)
    incomplete = step(client, requisition_id, tagged, state="extracted")
    assert incomplete.status_code == 422
    assert incomplete.mimetype == PROBLEM
    assert incomplete.get_json()["errors"][0]["field"] == "extraction_reference"
    stranger = step(client, requisition_id, tagged, state="refused", reason="x", handed_over_to="y")
    assert stranger.status_code == 422
    assert stranger.get_json()["errors"][0]["field"] == "handed_over_to"
    unknown = step(client, requisition_id, tagged, state="cancelled")
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "state"
    early = step(client, requisition_id, tagged, state="handed_over", handed_over_to="Martin")
    assert early.status_code == 409
    assert early.mimetype == PROBLEM
    assert early.get_json()["errors"][0]["field"] == "state"
    refused = step(client, requisition_id, tagged, state="refused", reason="Caméra en panne")
    assert refused.status_code == 200
    again = step(
        client, requisition_id, with_tag(headers["operator"], 2), state="erased", reason="x"
    )
    assert again.status_code == 409


def test_no_video_no_requisition(client: Any, headers: Headers) -> None:
    incident_id = submit_in_toulouse(client, headers, video={"exists": "no"})
    refused = request_footage(client, headers["command_centre"], incident_id)
    assert refused.status_code == 409
    assert refused.get_json()["errors"][0]["field"] == "video.exists"


def test_control_characters_are_refused_with_the_field_named(client: Any, headers: Headers) -> None:
    incident_id = submit_in_toulouse(client, headers)
    for text in ("caméra\x00 1", "caméra \ud800", "   "):
        refused = client.post(
            requisitions_of(incident_id), json={"what": text}, headers=headers["command_centre"]
        )
        assert refused.status_code == 422, text
        assert refused.get_json()["errors"][0]["field"] == "what"
    requisition_id = request_footage(client, headers["command_centre"], incident_id).get_json()[
        "id"
    ]
    refused = step(
        client,
        requisition_id,
        with_tag(headers["operator"], 1),
        state="extracted",
        extraction_reference="EXT\x00",
    )
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "extraction_reference"


def test_retention_pseudonymises_the_requisitions_everywhere(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    with db.transaction() as session:
        tisseo = session.scalars(select(Operator).where(Operator.code == "tisseo")).one()
        webhooks.register(
            session,
            retention.RETENTION_JOB,
            tisseo.id,
            "http://127.0.0.1:9/h",
            now=clock.now,
            allow_private=True,
        )
    incident_id = submit_in_toulouse(client, headers)
    requisition_id = request_footage(client, headers["command_centre"], incident_id).get_json()[
        "id"
    ]
    extracted = step(
        client,
        requisition_id,
        with_tag(headers["operator"], 1),
        state="extracted",
        extraction_reference="EXT-1",
    )
    assert extracted.status_code == 200
    handed = step(
        client,
        requisition_id,
        with_tag(headers["operator"], 2),
        state="handed_over",
        handed_over_to="Brigadier Marc Xavier",
    )
    assert handed.status_code == 200
    closed = client.post(
        f"/api/v1/incidents/{incident_id}/status",
        json={"status": "rejected", "cause": "Doublon"},
        headers=headers["command_centre"],
    )
    assert closed.status_code == 200, closed.get_json()
    clock.advance(days=200)
    with db.transaction() as session:
        report = retention.run_retention(session, clock.now, dt.timedelta(days=183))
    assert report.incidents == [incident_id]
    with db.reading() as session:
        stored = json.dumps(
            [
                [r.what, r.requested_by, r.handed_over_to]
                for r in session.scalars(select(CctvRequisition))
            ]
            + [e.envelope for e in session.scalars(select(OutboxEvent))]
            + [d.payload for d in session.scalars(select(WebhookDelivery))],
            ensure_ascii=False,
        )
    for personal in ("Marc Xavier", "bus 1742"):
        assert personal not in stored, personal
    # Who asked: on the requisition and in what carried it (the status history's
    # authors are the incident's, kept by retention as for every incident).
    assert '"person": "token:3 (test command_centre)"' not in stored
    assert retention.PSEUDONYM in stored
    # No new requisition once the personal data is purged.
    assert request_footage(client, headers["command_centre"], incident_id).status_code == 409


def test_a_hand_over_is_not_in_the_future_and_measures_check_their_period(
    client: Any, headers: Headers, clock: Any
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    requisition_id = request_footage(client, headers["command_centre"], incident_id).get_json()[
        "id"
    ]
    body = {"state": "extracted", "extraction_reference": "EXT-1"}
    assert step(client, requisition_id, with_tag(headers["operator"], 1), **body).status_code == 200
    later = (clock.now + dt.timedelta(hours=1)).isoformat()
    future = step(
        client,
        requisition_id,
        with_tag(headers["operator"], 2),
        state="handed_over",
        handed_over_to="Martin",
        handed_over_at=later,
    )
    assert future.status_code == 422
    assert future.get_json()["errors"][0]["field"] == "handed_over_at"
    reversed_period = client.get(
        "/api/v1/cctv-requisitions/measures",
        query_string={"since": later, "until": clock.now.isoformat()},
        headers=headers["admin"],
    )
    assert reversed_period.status_code == 422
    assert reversed_period.get_json()["errors"][0]["field"] == "until"
