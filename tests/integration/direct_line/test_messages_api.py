"""The incident's conversation over HTTP, on SQLite and PostgreSQL: scoping, requests for
information and their answers (with an amendment in the same step), notes kept on their
side, the feed event, the operator's webhook, the audit log and retention.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from intake_service.access import retention
from intake_service.feed import webhooks
from intake_service.models import (
    AuditEntry,
    DirectoryEntity,
    EmailMessage,
    IncidentMessage,
    MailboxNotice,
    Operator,
    OutboxEvent,
    WebhookDelivery,
)
from tests.factories import a_sheet, submit_in_toulouse

PROBLEM = "application/problem+json"
Headers = dict[str, dict[str, str]]


def messages_of(incident_id: str) -> str:
    return f"/api/v1/incidents/{incident_id}/messages"


def post(client: Any, headers: dict[str, str], incident_id: str, **body: Any) -> Any:
    return client.post(messages_of(incident_id), json=body, headers=headers)


def test_a_request_for_information_is_answered_with_an_amendment_in_the_same_step(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    asked = post(
        client, headers["command_centre"], incident_id, kind="rfi", text="Direction de fuite ?"
    )
    assert asked.status_code == 201, asked.get_json()
    request = asked.get_json()
    # The sheet is a P1: the request is due in 5 minutes.
    due = dt.datetime.fromisoformat(request["due_at"])
    assert due - dt.datetime.fromisoformat(request["created_at"]) == dt.timedelta(minutes=5)
    assert request["author"]["role"] == "command_centre"
    assert request["author"]["organisation"] == "ddsp-31"
    assert "test command_centre" in request["author"]["person"]

    seen = client.get(messages_of(incident_id), headers=headers["operator"]).get_json()
    assert seen["open_requests"] == 1
    assert seen["overdue_requests"] == 0

    clock.advance(minutes=6)
    late = client.get(messages_of(incident_id), headers=headers["command_centre"]).get_json()
    assert late["overdue_requests"] == 1
    assert late["messages"][0]["overdue"] is True

    answer = post(
        client,
        headers["operator"],
        incident_id,
        text="Vers la place du Capitole, à pied.",
        answers=request["id"],
        amendment={"suspects": {"flight_direction": "vers la place du Capitole"}},
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["amended_version"] == 2
    incident = client.get(f"/api/v1/incidents/{incident_id}", headers=headers["command_centre"])
    assert incident.get_json()["version"] == 2
    assert incident.get_json()["sheet"]["suspects"]["flight_direction"] == (
        "vers la place du Capitole"
    )

    after = client.get(messages_of(incident_id), headers=headers["command_centre"]).get_json()
    assert after["open_requests"] == 0
    first, second = after["messages"]
    assert first["answered_by"] == second["id"]
    assert second["answers"] == first["id"]
    assert first["overdue"] is False  # answered: no longer overdue

    again = post(client, headers["operator"], incident_id, text="Encore", answers=request["id"])
    assert again.status_code == 409
    assert again.mimetype == PROBLEM
    assert again.get_json()["errors"][0]["field"] == "answers"


def test_an_invalid_amendment_posts_nothing_and_names_the_field(
    client: Any, headers: Headers, db: Any
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    request = post(client, headers["command_centre"], incident_id, kind="rfi", text="Arme ?")
    answer = post(
        client,
        headers["operator"],
        incident_id,
        text="Un couteau",
        answers=request.get_json()["id"],
        amendment={"suspects": {"weapon": "sabre laser"}},
    )
    assert answer.status_code == 422
    assert answer.mimetype == PROBLEM
    assert [e["field"] for e in answer.get_json()["errors"]] == ["amendment.suspects.weapon"]
    with db.reading() as session:
        assert len(session.scalars(select(IncidentMessage)).all()) == 1  # the request only


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["text"]),
        ({"text": ""}, ["text"]),
        ({"text": "   "}, ["text"]),
        ({"text": "a\x00b"}, ["text"]),
        ({"text": "\ud800"}, ["text"]),
        ({"text": "x" * 4001}, ["text"]),
        ({"text": "ok", "kind": "shout"}, ["kind"]),
        ({"text": "ok", "due_in_minutes": 5}, ["due_in_minutes"]),
        ({"text": "ok", "kind": "rfi", "due_in_minutes": 0}, ["due_in_minutes"]),
        ({"text": "ok", "kind": "rfi", "due_in_minutes": "5"}, ["due_in_minutes"]),
        ({"text": "ok", "answers": "not-an-id"}, ["answers"]),
        ({"text": "ok", "colour": "red"}, ["colour"]),
        ({"text": "ok", "amendment": []}, ["amendment"]),
    ],
)
def test_bad_messages_are_refused_with_every_field_named(
    client: Any, headers: Headers, body: dict[str, Any], fields: list[str]
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    response = client.post(
        messages_of(incident_id),
        data=json.dumps(body),
        content_type="application/json",
        headers=headers["command_centre"],
    )
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == PROBLEM
    assert sorted(e["field"] for e in response.get_json()["errors"]) == fields


def test_an_answer_must_name_an_open_request_of_the_other_side(
    client: Any, headers: Headers
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    other = submit_in_toulouse(client, headers, "TIS-2")
    own = post(client, headers["command_centre"], incident_id, kind="rfi", text="?").get_json()
    elsewhere = post(client, headers["command_centre"], other, kind="rfi", text="?").get_json()
    # The asker does not answer itself; a request of another incident is not this one's.
    for who, target in (
        (headers["command_centre"], own["id"]),
        (headers["operator"], elsewhere["id"]),
    ):
        response = post(client, who, incident_id, text="réponse", answers=target)
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["errors"][0]["field"] == "answers"
    # The command centre does not amend the operator's sheet.
    response = post(
        client, headers["command_centre"], incident_id, text="x", amendment={"narrative": "autre"}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "amendment"


def test_notes_stay_on_their_side(client: Any, headers: Headers, db: Any) -> None:
    incident_id = submit_in_toulouse(client, headers)
    post(client, headers["command_centre"], incident_id, kind="note", text="Note CIC interne")
    post(client, headers["operator"], incident_id, kind="note", text="Note PC sûreté interne")
    post(client, headers["command_centre"], incident_id, text="Patrouille en route")

    def texts(who: str) -> list[str]:
        body = client.get(messages_of(incident_id), headers=headers[who]).get_json()
        return [m["text"] for m in body["messages"]]

    assert texts("command_centre") == ["Note CIC interne", "Patrouille en route"]
    assert texts("operator") == ["Note PC sûreté interne", "Patrouille en route"]
    with db.reading() as session:
        feed = [
            e.envelope["payload"]["message"]["text"]
            for e in session.scalars(
                select(OutboxEvent).where(OutboxEvent.event_type == "incident.message_posted")
            )
        ]
    # The feed is the CIC's: its note is there, never the operator's.
    assert feed == ["Note CIC interne", "Patrouille en route"]


def test_the_conversation_is_scoped_as_the_incident(client: Any, headers: Headers) -> None:
    incident_id = submit_in_toulouse(client, headers)
    url = messages_of(incident_id)
    for caller in ("other_operator", "ddsp_83"):
        assert client.get(url, headers=headers[caller]).status_code == 404
        response = client.post(url, json={"text": "?"}, headers=headers[caller])
        assert response.status_code == 404
        assert response.mimetype == PROBLEM
    for caller in ("gpo_referent", "gpo_partner", "station_officer", "admin"):
        assert client.get(url, headers=headers[caller]).status_code == 403
        assert client.post(url, json={"text": "?"}, headers=headers[caller]).status_code == 403
    assert client.get(url).status_code == 401
    unknown = messages_of("00000000-0000-4000-8000-000000000000")
    assert client.get(unknown, headers=headers["operator"]).status_code == 404
    assert client.get(messages_of("not-a-uuid"), headers=headers["operator"]).status_code == 404


def test_messages_reach_the_feed_and_the_operators_webhook_but_never_a_cic_note(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    with db.transaction() as session:
        tisseo = session.scalars(select(Operator).where(Operator.code == "tisseo")).one()
        webhooks.register(
            session,
            retention.RETENTION_JOB,
            tisseo.id,
            "http://127.0.0.1:9/hook",
            now=clock.now,
            allow_private=True,
        )
    incident_id = submit_in_toulouse(client, headers)
    post(client, headers["command_centre"], incident_id, kind="rfi", text="Direction de fuite ?")
    post(client, headers["command_centre"], incident_id, kind="note", text="interne")
    with db.reading() as session:
        events = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.event_type == "incident.message_posted")
            .order_by(OutboxEvent.position)
        ).all()
        deliveries = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [e.service_code for e in events] == ["ddsp-31", "ddsp-31"]
    envelope = events[0].envelope
    assert envelope["type"] == "incident.message_posted"
    assert envelope["payload"]["message"]["kind"] == "rfi"
    assert envelope["payload"]["incident"]["id"] == incident_id
    posted = [d.payload for d in deliveries if d.payload["type"] == "incident.message_posted"]
    assert [p["message"]["text"] for p in posted] == ["Direction de fuite ?"]
    assert posted[0]["operator_reference"] == "TIS-1"


def test_a_request_notifies_the_asked_sides_mailbox_with_no_personal_data(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    with db.transaction() as session:
        session.add(
            DirectoryEntity(
                kind="operator",
                code="tisseo",
                name="Tisséo – PC sûreté",
                mailbox="pc-surete@tisseo.example.org",
                hours="24 h/24",
                notices=["rfi", "rfi_overdue"],
                digest=False,
                created_at=clock.now,
                updated_at=clock.now,
            )
        )
    incident_id = submit_in_toulouse(client, headers)
    request = post(
        client,
        headers["command_centre"],
        incident_id,
        kind="rfi",
        text="Le conducteur Jean Dupont est-il encore à bord ?",
    ).get_json()
    with db.reading() as session:
        emails = session.scalars(select(EmailMessage)).all()
    assert [e.recipients for e in emails] == [["pc-surete@tisseo.example.org"]]
    assert "Demande d'information" in emails[0].subject
    assert "Jean Dupont" not in emails[0].body  # the question's text stays on the page
    assert f"/operateur/incidents/{incident_id}" in emails[0].body
    sheet = a_sheet("TIS-1")
    for personal in (sheet["reported_by"].get("name"), sheet.get("narrative")):
        if personal:
            assert personal not in emails[0].body

    # Overdue: one notice, whatever the number of runs.
    from intake_service.direct_line import messages

    clock.advance(minutes=10)
    for _ in range(2):
        with db.transaction() as session:
            messages.notice_overdue_requests(session, clock.now, "http://intake.example")
    with db.reading() as session:
        notices = session.scalars(select(MailboxNotice).order_by(MailboxNotice.id)).all()
        assert [n.kind for n in notices] == ["rfi", "rfi_overdue"]
        assert session.get(IncidentMessage, request["id"]).overdue_noticed_at == clock.now


def test_every_read_and_post_is_audited(client: Any, headers: Headers, db: Any) -> None:
    incident_id = submit_in_toulouse(client, headers)
    post(client, headers["command_centre"], incident_id, text="Bonjour")
    client.get(messages_of(incident_id), headers=headers["operator"])
    client.get(messages_of(incident_id), headers=headers["command_centre"])
    with db.reading() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.resource_id == incident_id, AuditEntry.action.like("incident.message%")
            )
            .order_by(AuditEntry.id)
        ).all()
    assert [(e.action, e.role) for e in entries] == [
        ("incident.message.post", "command_centre"),
        ("incident.messages.read", "operator"),
        ("incident.messages.read", "command_centre"),
    ]
    # The log names the message, never its text.
    assert "Bonjour" not in json.dumps([e.detail for e in entries])


def test_retention_pseudonymises_the_conversation_everywhere(
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
    post(client, headers["command_centre"], incident_id, text="Le suspect s'appelle Marc X.")
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
    assert report.messages == 1
    with db.reading() as session:
        stored = json.dumps(
            [m.text for m in session.scalars(select(IncidentMessage))]
            + [e.envelope for e in session.scalars(select(OutboxEvent))]
            + [d.payload for d in session.scalars(select(WebhookDelivery))],
            ensure_ascii=False,
        )
    assert "Marc X." not in stored
    assert retention.PSEUDONYM in stored
    # The conversation is closed once its personal data is purged.
    response = post(client, headers["command_centre"], incident_id, text="encore")
    assert response.status_code == 409
    assert response.mimetype == PROBLEM
