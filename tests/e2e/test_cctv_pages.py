"""A CCTV requisition in a real browser, two contexts at once: the CIC requests the
footage from the console's incident page (CSRF on); the operator sees the countdown on
its follow-up page and records the extraction; the console, live, shows it extracted."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import requests
from playwright.sync_api import expect

from intake_service.access.tokens import create_token
from tests.e2e.conftest import LiveServer, screenshot
from tests.factories import a_sheet

# 5 h 12 min 40 s at the submission: a slow run may tick a minute over.
COUNTDOWN = re.compile(r"^effacement dans 5 h 1[12]$")


def submit(live_server: LiveServer) -> str:
    db = live_server.app.extensions["intake.db"]
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        token = create_token(session, "operator", "tisseo", "e2e cctv", now=now)
    sheet = a_sheet(
        "CCTV-E2E-1",
        occurred_at=(now - dt.timedelta(minutes=5)).isoformat(),
        video={
            "exists": "yes",
            "sources": ["on_board"],
            "erased_after": (now + dt.timedelta(hours=5, minutes=12, seconds=40)).isoformat(),
        },
    )
    sheet["location"] = {
        "mode": 1,
        "place": "platform",
        "coordinates": {"lat": 43.60447, "lon": 1.44554, "accuracy_m": 10, "source": "gps"},
    }
    response = requests.post(
        f"{live_server.url}/api/v1/incidents",
        json=sheet,
        headers={"Authorization": f"Bearer {token.secret}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    incident_id: str = response.json()["id"]
    return incident_id


def test_the_cic_requests_and_the_operator_records_the_extraction(
    live_server: LiveServer, signed_in: Any
) -> None:
    incident_id = submit(live_server)
    cic = signed_in("cic@ddsp31.test")
    operator = signed_in("agent@tisseo.test")

    # The operator's follow-up is open before the request: it is told at once.
    operator.goto(f"{live_server.url}/operateur/incidents/{incident_id}")
    expect(operator.locator("#etat-connexion")).to_have_attribute("data-etat", "connecte")
    cic.goto(f"{live_server.url}/console/incidents/{incident_id}")
    cic.get_by_label("Images demandées").fill("Caméras du quai, 18 h 15 – 18 h 40")
    cic.get_by_role("button", name="Réquisitionner les images").click()
    expect(cic.get_by_text("Réquisition envoyée à l'opérateur.")).to_be_visible()
    section = cic.locator("#videoprotection")
    expect(section).to_contain_text("Caméras du quai")
    expect(section).to_contain_text("demandée")
    expect(section.locator(".compte-requisition")).to_have_text(COUNTDOWN)

    expect(operator.locator("#videoprotection-changee")).to_be_visible()
    operator.get_by_role("button", name="Afficher les réquisitions").click()
    mine = operator.locator("#videoprotection")
    expect(mine.locator(".compte-requisition")).to_have_text(COUNTDOWN)
    expect(mine.get_by_role("button", name="Réquisitionner les images")).to_have_count(0)
    mine.get_by_label("Référence d'extraction").fill("EXT-2026-0042")
    mine.get_by_role("button", name="Images extraites").click()
    expect(operator.get_by_text("Réquisition extraite.")).to_be_visible()
    expect(operator.locator("#videoprotection")).to_contain_text("référence EXT-2026-0042")
    screenshot(operator, "cctv-follow-up")

    # The console follows the incident's events: it shows the extraction without a reload
    # by hand.
    expect(cic.locator("#videoprotection")).to_contain_text("référence EXT-2026-0042")
    expect(
        cic.locator("#videoprotection").get_by_role("button", name="Extrait remis")
    ).to_have_count(0)
    screenshot(cic, "cctv-console")
