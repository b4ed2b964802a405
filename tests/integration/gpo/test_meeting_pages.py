"""The GPO meetings' pages on SQLite and PostgreSQL: errors in French under their
field, another GPO's meeting absent on every page, the partner's minutes page without
personal data, the referent's audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.models import AuditEntry, GpoMeeting
from intake_service.platform.clock import PARIS
from intake_service.platform.db import Database
from tests.access_seeds.gpo_assessment import PERSONAL, VICTIM_NAME, Scenario, build_scenario
from tests.conftest import Clock

PASSWORD = "mot-de-passe-de-test"


def _signed_in(
    app: Any, db: Database, clock: Clock, email: str, role: str, scope: str
) -> FlaskClient:
    with db.transaction() as session:
        add_user(session, email, PASSWORD, role, scope, now=clock.now)
    client: FlaskClient = app.test_client()
    assert client.post("/connexion", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def pages(app: Any, db: Database, clock: Clock) -> tuple[dict[str, FlaskClient], Scenario]:
    app.config["WTF_CSRF_ENABLED"] = False
    scenario = build_scenario(app, clock.now)
    clients = {
        "referent": _signed_in(app, db, clock, "ref@p.test", "gpo_referent", "gpo-toulouse"),
        "partner": _signed_in(
            app, db, clock, "pm@p.test", "gpo_partner", "gpo-toulouse:pm-toulouse"
        ),
        "var": _signed_in(app, db, clock, "var@p.test", "gpo_referent", "gpo-var"),
    }
    return clients, scenario


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def _plan(client: FlaskClient, at: dt.datetime) -> str:
    response = client.post(
        "/gpo/gpo-toulouse/reunions/nouvelle",
        data={"planned_at": _local(at), "place": "Salle 2", "invited": ["pm-toulouse", "tisseo"]},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def test_form_errors_are_named_under_their_field(pages: Any, clock: Clock) -> None:
    clients, scenario = pages
    referent = clients["referent"]
    response = referent.post(
        "/gpo/gpo-toulouse/reunions/nouvelle", data={"planned_at": "demain", "place": " "}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="erreur-planned_at"' in html
    assert 'id="erreur-place"' in html
    assert "Date et heure invalides" in html
    past = referent.post(
        "/gpo/gpo-toulouse/reunions/nouvelle",
        data={"planned_at": _local(clock.now - dt.timedelta(days=2)), "place": "Salle 2"},
    )
    assert past.status_code == 422
    assert "La date ne peut pas être passée." in past.get_data(as_text=True)

    meeting_id = _plan(referent, clock.now + dt.timedelta(days=1))
    base = f"/gpo/gpo-toulouse/reunions/{meeting_id}"
    hold = referent.post(base + "/tenue", data={"held_at": "hier", "present": ["pm-toulouse"]})
    assert hold.status_code == 422
    assert 'id="erreur-tenue-held_at"' in hold.get_data(as_text=True)
    future = referent.post(
        base + "/tenue", data={"held_at": _local(clock.now + dt.timedelta(days=3))}
    )
    assert future.status_code == 422
    assert "La date ne peut pas être à venir." in future.get_data(as_text=True)
    held = referent.post(base + "/tenue", data={"present": ["pm-toulouse"], "minutes": "Fait."})
    assert held.status_code == 303

    owner = referent.post(
        base + "/decisions",
        data={
            "kind": "action_created",
            "problem_id": scenario.problem_id,
            "action_what": "Médiation",
            "action_owner": "inconnu",
        },
    )
    assert owner.status_code == 422
    assert 'id="erreur-decision-action_owner"' in owner.get_data(as_text=True)
    move = referent.post(
        base + "/decisions",
        data={"kind": "state_changed", "problem_id": scenario.problem_id, "to": "resolved"},
    )
    assert move.status_code == 422
    assert 'id="erreur-decision-to"' in move.get_data(as_text=True)
    view = clients["partner"].post(base + "/avis", data={"problem_id": scenario.problem_id})
    assert view.status_code == 422
    assert 'id="erreur-avis-view"' in view.get_data(as_text=True)
    ok = clients["partner"].post(
        base + "/avis", data={"problem_id": scenario.problem_id, "view": "improved"}
    )
    assert ok.status_code == 303


def test_another_gpos_meeting_is_absent_on_every_page(pages: Any, clock: Clock) -> None:
    clients, _ = pages
    meeting_id = _plan(clients["referent"], clock.now + dt.timedelta(days=1))
    var = clients["var"]
    base = f"/gpo/gpo-toulouse/reunions/{meeting_id}"
    for path in (
        "/gpo/gpo-toulouse/reunions",
        "/gpo/gpo-toulouse/reunions/nouvelle",
        base,
        base + "/compte-rendu",
        base + "/compte-rendu.pdf",
        base + "/compte-rendu.csv",
        f"/gpo/gpo-var/reunions/{meeting_id}",
    ):
        assert var.get(path).status_code == 404, path
    for path in (base + "/tenue", base + "/envoi", base + "/ordre-du-jour", base + "/cloture"):
        assert var.post(path, data={"status": "skipped"}).status_code == 404, path
    assert clients["partner"].get("/gpo/gpo-toulouse/reunions/nouvelle").status_code == 403
    assert clients["partner"].post(base + "/tenue", data={}).status_code == 403
    # No minutes before the meeting is held.
    assert clients["partner"].get(base + "/compte-rendu").status_code == 409


def test_minutes_pages_partner_without_personal_data_referent_audited(
    pages: Any, db: Database, clock: Clock
) -> None:
    clients, _ = pages
    referent = clients["referent"]
    meeting_id = _plan(referent, clock.now + dt.timedelta(hours=3))
    base = f"/gpo/gpo-toulouse/reunions/{meeting_id}"
    referent.post(
        base + "/tenue",
        data={"present": ["pm-toulouse"], "minutes": f"Victime : {VICTIM_NAME}. Suivi."},
    )
    with db.transaction() as session:
        assert session.scalar(select(GpoMeeting.status)) == "held"
    page = clients["partner"].get(base + "/compte-rendu")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Capitole" in html
    assert "Suivi." in html
    assert [value for value in PERSONAL if value in html] == []
    csv_text = clients["partner"].get(base + "/compte-rendu.csv").get_data(as_text=True)
    assert [value for value in PERSONAL if value in csv_text] == []
    with db.transaction() as session:
        reads = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "gpo.meeting.minutes.read")
        ).all()
        assert reads == []
    assert VICTIM_NAME in referent.get(base + "/compte-rendu").get_data(as_text=True)
    with db.transaction() as session:
        (read,) = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "gpo.meeting.minutes.read")
        ).all()
        assert read.resource_id == meeting_id
        assert read.role == "gpo_referent"
