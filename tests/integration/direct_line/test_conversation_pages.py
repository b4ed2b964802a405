"""The conversation on the pages, on SQLite and PostgreSQL: the console's and the
follow-up's forms post what the API would (errors in French under the field, nothing
posted when refused), a foreign scope gets 404, and the operator's live stream never
carries a command centre's note."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from intake_service.access.accounts import add_user
from intake_service.feed import outbox
from intake_service.models import AuditEntry, IncidentMessage
from intake_service.platform.db import Database
from intake_service.territory import zones
from intake_service.web.follow_up import live_event
from tests.conftest import Clock
from tests.factories import a_sheet, create_tokens

PASSWORD = "mot-de-passe-de-test"


@pytest.fixture
def pages(app: Any, db: Database, clock: Clock) -> dict[str, Any]:
    app.config["WTF_CSRF_ENABLED"] = False
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(
            session, [("31555", "ddsp-31", "DIPN 31"), ("83137", "ddsp-83", "DIPN 83")]
        )
        for email, role, scope in (
            ("agent@tisseo.test", "operator", "tisseo"),
            ("agent@mistral.test", "operator", "mistral"),
            ("cic@ddsp31.test", "command_centre", "ddsp-31"),
            ("cic@ddsp83.test", "command_centre", "ddsp-83"),
        ):
            add_user(session, email, PASSWORD, role, scope, now=clock.now)
    sheet = a_sheet("PAGES-1")
    sheet["location"]["insee_code"] = "31555"
    api = app.test_client()
    created = api.post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert created.status_code == 201, created.get_json()

    def signed_in(email: str) -> FlaskClient:
        client: FlaskClient = app.test_client()
        answer = client.post("/connexion", data={"email": email, "password": PASSWORD})
        assert answer.status_code == 302
        return client

    return {"id": created.get_json()["id"], "as": signed_in}


def _messages(db: Database) -> list[IncidentMessage]:
    with db.reading() as session:
        return list(session.scalars(select(IncidentMessage).order_by(IncidentMessage.number)))


def test_a_request_answered_from_the_pages_with_the_sheet_completed(
    pages: dict[str, Any], db: Database
) -> None:
    incident_id = pages["id"]
    console = pages["as"]("cic@ddsp31.test")
    operator = pages["as"]("agent@tisseo.test")
    asked = console.post(
        f"/console/incidents/{incident_id}/messages",
        data={"genre": "rfi", "texte": "Direction de fuite ?", "delai": "3"},
    )
    assert asked.status_code == 303
    assert asked.headers["Location"].endswith(f"/console/incidents/{incident_id}#conversation")
    [request] = _messages(db)
    assert (request.kind, request.side) == ("rfi", "command_centre")
    assert (request.due_at - request.created_at).total_seconds() == 180

    page = operator.get(f"/operateur/incidents/{incident_id}").get_data(as_text=True)
    assert "Direction de fuite ?" in page
    assert "1 demande d'information ouverte" in page
    answered = operator.post(
        f"/operateur/incidents/{incident_id}/messages",
        data={"repond_a": request.id, "texte": "Vers le métro", "fuite": "Métro Jean-Jaurès"},
    )
    assert answered.status_code == 303
    request, answer = _messages(db)
    assert request.answered_by_id == answer.id
    assert answer.amended_version == 2
    part = console.get(f"/console/incidents/{incident_id}/conversation").get_data(as_text=True)
    assert "Vers le métro" in part
    assert "Aucune demande d'information ouverte." in part
    detail = console.get(f"/console/incidents/{incident_id}").get_data(as_text=True)
    assert "Direction de fuite : Métro Jean-Jaurès" in detail

    # Answered once: a second answer is a conflict, in French, and nothing is posted.
    again = operator.post(
        f"/operateur/incidents/{incident_id}/messages",
        data={"repond_a": request.id, "texte": "Encore"},
    )
    assert again.status_code == 409
    assert "déjà reçu une réponse" in again.get_data(as_text=True)
    assert len(_messages(db)) == 2
    with db.reading() as session:
        reads = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "incident.messages.read")
        )
    assert reads >= 3  # the follow-up page, the console's part and page: each audited


def test_the_queue_counts_open_requests_and_marks_the_late_ones(
    pages: dict[str, Any], db: Database, clock: Clock
) -> None:
    console = pages["as"]("cic@ddsp31.test")
    assert 'class="demandes' not in console.get("/console/").get_data(as_text=True)
    console.post(
        f"/console/incidents/{pages['id']}/messages",
        data={"genre": "rfi", "texte": "Le conducteur est-il à bord ?", "delai": "5"},
    )
    queue = console.get("/console/").get_data(as_text=True)
    # The label is escaped by the template: d&#39;information.
    assert '<span class="demandes">1 demande d&#39;information</span>' in queue
    clock.now += dt.timedelta(minutes=6)
    queue = console.get("/console/").get_data(as_text=True)
    assert (
        '<span class="demandes en-retard">1 demande d&#39;information, dont 1 en retard</span>'
        in queue
    )


@pytest.mark.parametrize(
    ("form", "field", "wording"),
    [
        ({"genre": "message", "texte": "   "}, "texte", "Écrivez le message."),
        ({"genre": "message", "texte": "x" * 4001}, "texte", "4\u202f000 caractères au plus"),
        ({"genre": "message", "texte": "a\x00b"}, "texte", "caractères non autorisés"),
        ({"genre": "rfi", "texte": "Combien ?", "delai": "0"}, "delai", "de 1 à 10080"),
        ({"genre": "courrier", "texte": "Bonjour"}, "genre", "Choisissez : message"),
    ],
)
def test_refused_forms_say_why_under_the_field_and_post_nothing(
    pages: dict[str, Any], db: Database, form: dict[str, str], field: str, wording: str
) -> None:
    console = pages["as"]("cic@ddsp31.test")
    answer = console.post(f"/console/incidents/{pages['id']}/messages", data=form)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert f'id="nouveau-erreur-{field}"' in page
    assert wording in page
    assert _messages(db) == []


def test_an_amendment_the_sheet_refuses_is_named_and_posts_nothing(
    pages: dict[str, Any], db: Database
) -> None:
    console = pages["as"]("cic@ddsp31.test")
    operator = pages["as"]("agent@tisseo.test")
    console.post(
        f"/console/incidents/{pages['id']}/messages", data={"genre": "rfi", "texte": "Où ?"}
    )
    [request] = _messages(db)
    refused = operator.post(
        f"/operateur/incidents/{pages['id']}/messages",
        data={"repond_a": request.id, "texte": "Ici", "statut": "envolés"},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f'id="reponse-{request.number}-erreur-statut"' in page
    assert "Ici" in page  # what was typed is kept
    assert len(_messages(db)) == 1


def test_outside_the_scope_the_pages_answer_404(pages: dict[str, Any], db: Database) -> None:
    incident_id = pages["id"]
    for email, path in (
        ("cic@ddsp83.test", f"/console/incidents/{incident_id}/messages"),
        ("agent@mistral.test", f"/operateur/incidents/{incident_id}/messages"),
    ):
        client = pages["as"](email)
        assert client.post(path, data={"texte": "Bonjour"}).status_code == 404
        assert client.get(path.replace("/messages", "/conversation")).status_code == 404
    assert _messages(db) == []


def test_the_operators_stream_never_carries_a_command_centre_note(
    pages: dict[str, Any], db: Database
) -> None:
    console = pages["as"]("cic@ddsp31.test")
    with db.reading() as session:
        start = outbox.last_position(session)
    for kind, text in (("note", "Individu connu"), ("message", "Patrouille en route")):
        posted = console.post(
            f"/console/incidents/{pages['id']}/messages", data={"genre": kind, "texte": text}
        )
        assert posted.status_code == 303
    with (
        db.reading() as session,
        pages["as"]("agent@tisseo.test").application.test_request_context(),
    ):
        events = outbox.events_after(session, start)
        assert [e.envelope["payload"]["message"]["kind"] for e in events] == ["note", "message"]
        live = [live_event(event) for event in events]
    assert live[0] is None
    assert live[1] is not None
    assert live[1]["type"] == "incident.message_posted"
    assert "Individu connu" not in str(live[1])
