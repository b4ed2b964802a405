"""The GPO's assessment and meeting brief in Chromium: the chart loads with its bars and
the actions' markers, the before/after table, the brief (referent's and partners'), and
the partners' brief (page, CSV, PDF) holds none of the sheets' personal data."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader

from intake_service.access.accounts import add_user
from tests.access_seeds.gpo_assessment import PERSONAL, TITLE, Scenario, build_scenario
from tests.e2e.conftest import PASSWORD, LiveServer, screenshot

REFERENT = "referent@gpo-toulouse.test"
PARTNER = "partenaire@gpo-toulouse.test"


@pytest.fixture(scope="module")
def scenario(live_server: LiveServer) -> Scenario:
    now = dt.datetime.now(dt.UTC)
    made = build_scenario(live_server.app, now)
    with live_server.app.extensions["intake.db"].transaction() as session:
        add_user(session, REFERENT, PASSWORD, "gpo_referent", "gpo-toulouse", now=now)
        add_user(session, PARTNER, PASSWORD, "gpo_partner", "gpo-toulouse:pm-toulouse", now=now)
    return made


def test_assessment_page_shows_the_chart_and_the_before_after(
    live_server: LiveServer, scenario: Scenario, signed_in: Callable[[str], Any]
) -> None:
    page = signed_in(REFERENT)
    page.goto(f"{live_server.url}/gpo/problemes/{scenario.problem_id}/evaluation")
    assert page.get_by_role("heading", level=1).inner_text() == f"Évaluation : {TITLE}"
    chart = page.locator("#graphique svg")
    assert chart.is_visible()
    bars = page.locator("#graphique rect.bar.in-scope")
    assert bars.count() >= 8
    counts = [int(c) for c in bars.evaluate_all("els => els.map(e => e.dataset.count)")]
    assert sum(counts) == 4
    # Drawn, not only present: the tallest bar has a height on screen.
    assert max(box["height"] for box in (b.bounding_box() for b in bars.all()) if box) > 20
    assert page.locator("#graphique g.marker").count() == 2
    table = page.locator("table.avant-apres")
    assert "Incidents dans le périmètre" in table.inner_text()
    total = table.locator("tr.total td")
    assert total.all_inner_texts()[:2] == ["2", "2"]
    # The SVG alone loads too (the brief's <img>), as an image.
    response = page.request.get(
        f"{live_server.url}/gpo/problemes/{scenario.problem_id}/graphique.svg"
    )
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    screenshot(page, "gpo-assessment", readme=True)

    # Another date: the date picker compares around it.
    chosen = (scenario.meeting_date - dt.timedelta(days=5)).isoformat()
    page.fill("#pivot", chosen)
    page.fill("#fenetre", "60")
    page.get_by_role("button", name="Comparer").click()
    page.wait_for_load_state("networkidle")
    assert f"pivot={chosen}" in page.url
    assert page.locator("table.avant-apres tr.total td").all_inner_texts()[:2] == ["3", "1"]


def test_referent_brief_shows_new_incidents_actions_and_charts(
    live_server: LiveServer, scenario: Scenario, signed_in: Callable[[str], Any]
) -> None:
    page = signed_in(REFERENT)
    page.goto(f"{live_server.url}/gpo/gpo-toulouse/reunion")
    page.wait_for_load_state("networkidle")
    section = page.locator(f"#probleme-{scenario.problem_id}")
    assert section.locator(".nouveaux").inner_text() == "2"
    assert "Zéphyrin" in section.locator("table.incidents").inner_text()
    assert "Patrouilles renforcées le soir" in section.locator("table.actions.retard").inner_text()
    assert (
        "Intervention au collège voisin" in section.locator("table.actions.echeance").inner_text()
    )
    image = section.locator("img.graphique")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    # Printed: the controls disappear, the brief stays.
    page.emulate_media(media="print")
    assert not page.locator("form.pas-imprime").is_visible()
    assert section.is_visible()
    page.emulate_media(media="screen")
    screenshot(page, "gpo-brief-referent")


def test_partner_brief_page_csv_and_pdf_hold_no_personal_data(
    live_server: LiveServer, scenario: Scenario, signed_in: Callable[[str], Any]
) -> None:
    page = signed_in(PARTNER)
    page.goto(f"{live_server.url}/gpo/gpo-toulouse/reunion")
    page.wait_for_load_state("networkidle")
    assert page.locator(".version").get_attribute("data-version") == "partner"
    section = page.locator(f"#probleme-{scenario.problem_id}")
    assert section.locator(".nouveaux").inner_text() == "2"
    assert "Capitole" in section.locator("table.incidents").inner_text()
    screenshot(page, "gpo-brief-partner")

    csv_response = page.request.get(f"{live_server.url}/gpo/gpo-toulouse/reunion.csv")
    assert csv_response.status == 200
    pdf_response = page.request.get(f"{live_server.url}/gpo/gpo-toulouse/reunion.pdf")
    assert pdf_response.status == 200
    pdf_text = "\n".join(
        p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf_response.body())).pages
    )
    assert TITLE.split(" à ")[0] in pdf_text
    texts = {
        "page text": page.locator("body").inner_text(),
        "page HTML": page.content(),
        "CSV": csv_response.text(),
        "PDF": pdf_text,
    }
    assert TITLE in texts["CSV"]
    leaks = [(where, value) for where, text in texts.items() for value in PERSONAL if value in text]
    assert leaks == []
