"""The console's map in a real browser: a marker per open incident, coloured and
labelled by priority, live with the list; a click opens the incident. Offline: the
markers are checked, not the tiles (none is configured here)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from intake_service.access.tokens import create_token
from tests.e2e.conftest import LiveServer, screenshot, submit_now


@pytest.fixture(scope="module")
def token(live_server: LiveServer) -> str:
    with live_server.app.extensions["intake.db"].transaction() as session:
        return create_token(
            session, "operator", "tisseo", "SAE Tisséo", now=dt.datetime.now(dt.UTC)
        ).secret


def _submit(live_server: LiveServer, token: str, lat: float, lon: float, **changes: Any) -> str:
    place = {
        "mode": 3,
        "place": "platform",
        "coordinates": {"lat": lat, "lon": lon, "accuracy_m": 10, "source": "gps"},
    }
    body = submit_now(live_server, token, f"CARTE-{time.monotonic_ns()}", location=place, **changes)
    incident_id: str = body["id"]
    return incident_id


def test_markers_follow_the_queue_and_open_the_incident(
    signed_in: Any, live_server: LiveServer, token: str
) -> None:
    first = _submit(live_server, token, 43.60447, 1.44554)
    console = signed_in("cic@ddsp31.test")
    console.goto(f"{live_server.url}/console/")
    expect(console.locator("#etat-connexion")).to_have_attribute("data-etat", "connecte")
    marker = console.locator(f".marqueur-incident[data-id='{first}']")
    expect(marker).to_have_text("P1")
    expect(marker).to_have_attribute("data-priority", "P1")

    # A new incident appears on the map as it appears in the list.
    second = _submit(live_server, token, 43.61, 1.45, state="over")
    expect(console.locator(f"#incident-{second}")).to_be_visible()
    later = console.locator(f".marqueur-incident[data-id='{second}']")
    expect(later).to_be_visible()
    assert later.get_attribute("data-priority") != "P1"
    screenshot(console, "console-map")

    marker.click()
    expect(console).to_have_url(f"{live_server.url}/console/incidents/{first}")
