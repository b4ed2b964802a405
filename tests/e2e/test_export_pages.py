"""The export pages in Chromium, checked with axe-core: an operator's staff and a command
centre's operator reach the incident export from their pages, a wrong period is shown
under its fields, the CSV downloads with their own incidents and no identity; the
monthly return's month picker refuses the current month under its field and downloads
the PDF of the last complete month."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from intake_service.access.tokens import create_token
from intake_service.reporting.rules import periods
from tests.e2e.conftest import LiveServer, axe_violations, screenshot, submit_now

# Mistral has no stop in Toulouse: a platform given by its commune and coordinates.
TOULOUSE = {
    "mode": 3,
    "place": "platform",
    "insee_code": "31555",
    "coordinates": {"lat": 43.60445, "lon": 1.44406, "accuracy_m": 20, "source": "gps"},
}
IDENTITIES = ("Agent Fictif", "+33612345678", "PC sûreté Tisséo", "Veste rouge", "frappé par")


@pytest.fixture(scope="module")
def incidents(live_server: LiveServer) -> dict[str, str]:
    """Two tisseo sheets and one of mistral, all in Toulouse (ddsp-31), sent just now."""
    now = dt.datetime.now(dt.UTC)
    with live_server.app.extensions["intake.db"].transaction() as session:
        tisseo = create_token(session, "operator", "tisseo", "e2e exports", now=now).secret
        mistral = create_token(session, "operator", "mistral", "e2e exports", now=now).secret
    return {
        "EXP-1": submit_now(live_server, tisseo, "EXP-1")["id"],
        "EXP-2": submit_now(live_server, tisseo, "EXP-2", state="over")["id"],
        "EXP-M": submit_now(live_server, mistral, "EXP-M", state="over", location=TOULOUSE)["id"],
    }


def download_csv(page: Any) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger le CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert [value for value in IDENTITIES if value in text] == []
    return list(csv.DictReader(io.StringIO(text)))


def test_operator_exports_its_sheets_from_its_follow_up_page(
    live_server: LiveServer, incidents: dict[str, str], signed_in: Callable[[str], Any]
) -> None:
    page = signed_in("agent@tisseo.test")
    page.goto(live_server.url)  # the operator lands on its follow-up page
    page.get_by_role("link", name="Exporter les fiches d'une période (CSV)").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", level=1).inner_text() == "Export des incidents"
    assert axe_violations(page) == []

    # A period that ends before it starts: both fields say so, the page stays.
    page.fill("#du", "2026-03-10")
    page.fill("#au", "2026-03-01")
    page.get_by_role("button", name="Télécharger le CSV").click()
    page.wait_for_load_state("networkidle")
    assert "commence après sa fin" in page.locator("#du-erreur").inner_text()
    assert "finit avant son début" in page.locator("#au-erreur").inner_text()
    assert page.locator("#du").get_attribute("aria-invalid") == "true"
    assert page.locator("#du").get_attribute("aria-describedby") == "du-erreur"
    assert axe_violations(page) == []
    screenshot(page, "export-incidents-errors")

    today = periods.paris_day(dt.datetime.now(dt.UTC))
    page.fill("#du", (today - dt.timedelta(days=1)).isoformat())
    page.fill("#au", today.isoformat())
    rows = download_csv(page)
    assert {row["operator_reference"] for row in rows} == {"EXP-1", "EXP-2"}
    assert {row["incident_id"] for row in rows} == {incidents["EXP-1"], incidents["EXP-2"]}


def test_command_centre_exports_its_service_from_the_navigation(
    live_server: LiveServer, incidents: dict[str, str], signed_in: Callable[[str], Any]
) -> None:
    page = signed_in("cic@ddsp31.test")
    page.get_by_role("navigation").get_by_role("link", name="Export des incidents").click()
    page.wait_for_load_state("networkidle")
    assert "votre service (ddsp-31)" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    rows = download_csv(page)
    assert {row["operator_reference"] for row in rows} >= {"EXP-1", "EXP-2", "EXP-M"}
    assert {row["service"] for row in rows} == {"ddsp-31"}
    screenshot(page, "export-incidents", readme=True)


def test_monthly_return_refuses_the_current_month_and_downloads_a_past_one(
    live_server: LiveServer, incidents: dict[str, str], signed_in: Callable[[str], Any]
) -> None:
    page = signed_in("agent@tisseo.test")
    page.get_by_role("navigation").get_by_role("link", name="Statistiques mensuelles").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Statistiques mensuelles du réseau"
    )
    assert axe_violations(page) == []
    now = dt.datetime.now(dt.UTC)
    current = periods.paris_day(now).strftime("%Y-%m")
    page.fill("#mois", current)
    page.get_by_role("button", name="Télécharger le CSV").click()
    page.wait_for_load_state("networkidle")
    assert "pas terminé" in page.locator("#mois-erreur").inner_text()
    assert axe_violations(page) == []

    page.fill("#mois", periods.last_complete_month(now).code)
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger le PDF").click()
    download = info.value
    assert download.suggested_filename == (
        f"statistiques-tisseo-{periods.last_complete_month(now).code}.pdf"
    )
    text = "\n".join(p.extract_text() or "" for p in PdfReader(download.path()).pages)
    assert "Statistiques mensuelles" in text
    assert "Tisséo" in text
