"""Routing that says when it is guessing, on SQLite and PostgreSQL: a commune of a
département the police-zone table does not cover goes to its gendarmerie as an
assumption (warned on the incident, the feed and the console, counted by ``status``);
a covered département's communes are certain; a command centre's redirect of an
assumed routing is counted as a correction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.access.tokens import create_token
from intake_service.cli import main
from intake_service.deployment import status
from intake_service.models import OutboxEvent
from intake_service.platform.db import Database
from intake_service.territory import zones
from tests.conftest import Clock
from tests.factories import a_sheet, create_tokens

# Toulouse and Toulon are in the table: 31 and 83 are covered; 2A (Ajaccio) is not.
ZONES = [("31555", "ddsp-31", "DIPN 31"), ("83137", "ddsp-83", "DIPN 83")]


@pytest.fixture
def headers(db: Database, clock: Clock) -> dict[str, dict[str, str]]:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
        secret = create_token(session, "command_centre", "ggd-2a", "CORG 2A", now=clock.now)
        headers["ggd_2a"] = {"Authorization": f"Bearer {secret.secret}"}
    return headers


def _submit(client: Any, headers: dict[str, dict[str, str]], reference: str, insee: str) -> Any:
    sheet = a_sheet(reference, state="over")  # over: coordinates are not required
    # No stop nor coordinates: the commune is the given INSEE code.
    del sheet["location"]["stop_id"], sheet["location"]["coordinates"]
    sheet["location"]["insee_code"] = insee
    answer = client.post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert answer.status_code == 201, answer.get_json()["errors"]
    return answer.get_json()


@pytest.mark.parametrize(
    ("insee", "service", "confidence"),
    [
        ("31555", "ddsp-31", "certain"),  # Toulouse, listed
        ("31069", "ggd-31", "certain"),  # Blagnac is left out of a table that covers 31
        ("2A004", "ggd-2a", "assumed"),  # Ajaccio: the table knows nothing of 2A
        ("75056", "pp", "certain"),  # Paris, with or without a table
    ],
)
def test_the_confidence_of_each_routing(
    app: Any, headers: Any, db: Database, insee: str, service: str, confidence: str
) -> None:
    body = _submit(app.test_client(), headers, f"ROUTE-{insee}", insee)
    assert body["competent_service"]["code"] == service
    assert body["routing_confidence"] == confidence
    warned = [w["code"] for w in body["warnings"]]
    assert ("routing_assumed" in warned) is (confidence == "assumed")
    with db.reading() as session:
        [event] = session.scalars(select(OutboxEvent)).all()
    assert event.envelope["payload"]["incident"]["routing_confidence"] == confidence


def test_an_assumed_routing_is_warned_counted_and_its_correction_too(
    app: Any, headers: Any, db: Database, clock: Clock
) -> None:
    client = app.test_client()
    first = _submit(client, headers, "AJACCIO-1", "2A004")
    _submit(client, headers, "AJACCIO-2", "2A004")
    _submit(client, headers, "TOULOUSE-1", "31555")
    [warning] = [w for w in first["warnings"] if w["code"] == "routing_assumed"]
    assert warning["field"] == "location"
    assert "2A" in warning["message"]

    # The gendarmerie of 2A sends one back to the competent service: a correction.
    rejected = client.post(
        f"/api/v1/incidents/{first['id']}/status",
        json={"status": "rejected", "cause": "Zone police", "redirect_to": "ggd-2b"},
        headers=headers["ggd_2a"],
    )
    assert rejected.status_code == 200, rejected.get_json()
    redirected = client.get(f"/api/v1/incidents/{first['id']}", headers=headers["operator"])
    assert redirected.get_json()["routing_confidence"] == "corrected"

    with db.transaction() as session:
        found = status.read_status(session, clock.now)
    assert found.assumed_routing == {"2A": (2, 1)}


def test_status_names_the_departements_without_a_zone_table(
    app: Any, headers: Any, db: Database, clock: Clock
) -> None:
    clock.now = dt.datetime.now(dt.UTC)  # the command counts the last 30 days of the real clock
    _submit(app.test_client(), headers, "AJACCIO-3", "2A004")
    env = {
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "BROKER_URL": "memory://",
        "SECRET_KEY": "x",
    }
    output = CliRunner().invoke(main, ["status"], env=env).output
    assert "routing   départements sans table des zones : 2A (1 fiche)" in output
    assert "intake-service zones import" in output


def test_the_console_says_routage_suppose(
    app: Any, headers: Any, db: Database, clock: Clock
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    incident = _submit(app.test_client(), headers, "AJACCIO-4", "2A004")
    with db.transaction() as session:
        add_user(
            session,
            "corg@ggd2a.test",
            "mot-de-passe-de-test",
            "command_centre",
            "ggd-2a",
            now=clock.now,
        )
    console = app.test_client()
    signed = console.post(
        "/connexion", data={"email": "corg@ggd2a.test", "password": "mot-de-passe-de-test"}
    )
    assert signed.status_code == 302
    queue = console.get("/console/").get_data(as_text=True)
    assert '<span class="routage-suppose">routage supposé</span>' in queue
    page = console.get(f"/console/incidents/{incident['id']}").get_data(as_text=True)
    assert 'id="routage-suppose">Routage supposé</strong>' in page
    assert "Routage supposé : la table des zones de police ne couvre pas ce" in page
