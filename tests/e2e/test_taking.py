"""Taking an incident in real browsers: two command-centre operators of one service at
once; one takes a P1, the other sees it taken within a second and cannot take it until a
supervisor reassigns it."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from intake_service.access.accounts import add_user
from intake_service.access.tokens import create_token
from tests.e2e.conftest import PASSWORD, LiveServer, submit_now

FIRST, SECOND, CHIEF = "cic@ddsp31.test", "cic-bis@ddsp31.test", "chef@ddsp31.test"


@pytest.fixture(scope="module")
def operator_token(live_server: LiveServer) -> str:
    now = dt.datetime.now(dt.UTC)
    with live_server.app.extensions["intake.db"].transaction() as session:
        add_user(session, SECOND, PASSWORD, "command_centre", "ddsp-31", now=now)
        add_user(session, CHIEF, PASSWORD, "command_centre", "ddsp-31", now=now, supervisor=True)
        return create_token(session, "operator", "tisseo", "SAE Tisséo", now=now).secret


def _p1(live_server: LiveServer, token: str) -> str:
    body = submit_now(live_server, token, f"PRISE-{time.monotonic_ns()}")
    assert body["priority"] == "P1"
    incident_id: str = body["id"]
    return incident_id


def test_one_takes_the_other_sees_it_within_a_second_and_waits_for_a_reassignment(
    signed_in: Callable[[str], Any], live_server: LiveServer, operator_token: str
) -> None:
    incident_id = _p1(live_server, operator_token)
    first = signed_in(FIRST)
    second = signed_in(SECOND)
    second.goto(f"{live_server.url}/console/")
    expect(second.locator("#etat-connexion")).to_have_attribute("data-etat", "connecte")
    row = second.locator(f"#incident-{incident_id}")
    expect(row).to_be_visible()
    expect(row.locator(".pris-par")).to_have_count(0)

    first.goto(f"{live_server.url}/console/incidents/{incident_id}")
    first.get_by_role("button", name="Je prends").click()
    clicked = time.monotonic()
    expect(first.locator("#pris-par")).to_contain_text("vous depuis")
    expect(row.locator(".pris-par")).to_contain_text(f"pris par {FIRST}", timeout=1000)
    assert time.monotonic() - clicked < 1.5  # the click's own round trip included

    # The other operator's incident page: taken, no "je prends", no action.
    second.goto(f"{live_server.url}/console/incidents/{incident_id}")
    expect(second.locator("#pris-ailleurs")).to_contain_text(f"Pris par {FIRST}")
    expect(second.get_by_role("button", name="Je prends")).to_have_count(0)
    expect(second.get_by_role("button", name="Prendre en compte")).to_have_count(0)
    expect(second.locator("#etat-connexion")).to_have_attribute("data-etat", "connecte")

    # A supervisor reassigns it to the second operator, whose open page follows.
    chief = signed_in(CHIEF)
    chief.goto(f"{live_server.url}/console/incidents/{incident_id}")
    chief.get_by_label("Réattribuer à").select_option(SECOND)
    chief.get_by_role("button", name="Réattribuer").click()
    expect(chief.get_by_text("Incident réattribué.")).to_be_visible()
    expect(second.locator("#pris-par")).to_contain_text("vous depuis")
    second.get_by_role("button", name="Prendre en compte").click()
    expect(second.get_by_text("Incident pris en compte.")).to_be_visible()
    # The first operator's page follows too (it reloads itself on the event: reloading it
    # by hand here would race that navigation).
    expect(first.locator("#pris-ailleurs")).to_contain_text(f"Pris par {SECOND}")
