"""The national view in Chromium, checked with axe-core: the ministry's page with its
three SVG charts and the départements, a département's page per GPO (where its
direction lands), the period's errors under their fields, the CSV download, and the
hotspots' heat table and map; no personal data of the sheets anywhere."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from intake_service.access.accounts import add_user
from intake_service.access.rules.permissions import Principal
from intake_service.access.tokens import create_token
from intake_service.gpo import gpos, problems
from intake_service.models import GpoMeeting
from tests.e2e.conftest import PASSWORD, LiveServer, axe_violations, screenshot, submit_now

MINISTRY = "ministere@national.test"
DIRECTION = "direction@ddsp31.test"
REFERENT = "referent@points-chauds.test"
PERSONAL = ("Agent Fictif", "06 12 34 56 78", "+33612345678", "PC sûreté Tisséo", "Veste rouge",
            "frappé par un voyageur")  # fmt: skip


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> None:
    """gpo-toulouse (31) and gpo-toulon (83), a problem resolved and one open, meetings
    held, two tisseo incidents at Capitole, and the accounts."""
    now = dt.datetime.now(dt.UTC)
    db = live_server.app.extensions["intake.db"]
    with db.transaction() as session:
        gpos.add_gpo(session, "gpo-toulouse", "GPO transports Toulouse", ["ddsp-31"],
                     ["tisseo"], False, now - dt.timedelta(days=90))  # fmt: skip
        gpos.add_gpo(session, "gpo-toulon", "GPO transports Toulon", ["ddsp-83"], ["mistral"],
                     False, now - dt.timedelta(days=90))  # fmt: skip
        referent = Principal(role="gpo_referent", scope="gpo-toulouse", actor="e2e:referent")
        start = now - dt.timedelta(days=40)
        solved = problems.create_problem(
            session, referent, "gpo-toulouse", {"title": "Vols à Capitole", "scope": {}}, start
        )
        for n, to in enumerate(
            ("qualified", "analysis", "action_plan", "in_progress", "assessment", "resolved")
        ):
            problems.transition(session, referent, solved.id, to, None,
                                start + dt.timedelta(days=n + 1))  # fmt: skip
        problems.create_problem(
            session,
            referent,
            "gpo-toulouse",
            {"title": "Jets de pierres", "scope": {"stops": [
                {"operator": "tisseo", "stop_id": "demo:SA_capitole"}]}},
            now - dt.timedelta(days=3),
        )  # fmt: skip
        for code, days in (("gpo-toulouse", 30), ("gpo-toulouse", 10), ("gpo-toulon", 20)):
            held = now - dt.timedelta(days=days)
            session.add(
                GpoMeeting(id=str(uuid.uuid4()), gpo_code=code, planned_at=held, place="Salle",
                           status="held", held_at=held, agenda=[], agenda_sent_at=None,
                           reminded_at=None, minutes=None, created_at=held, created_by="e2e",
                           updated_at=held, version=1)
            )  # fmt: skip
        add_user(session, MINISTRY, PASSWORD, "national", "*", now=now)
        add_user(session, DIRECTION, PASSWORD, "departement", "31", now=now)
        add_user(session, REFERENT, PASSWORD, "gpo_referent", "gpo-toulouse", now=now)
        token = create_token(session, "operator", "tisseo", "e2e national", now=now).secret
    submit_now(live_server, token, "NAT-1")
    submit_now(live_server, token, "NAT-2", state="over")


def test_national_page_charts_exports_and_accessibility(
    live_server: LiveServer, seeded: None, signed_in: Callable[[str], Any]
) -> None:
    page = signed_in(MINISTRY)
    assert page.url.endswith("/national/")
    assert page.get_by_role("heading", level=1).inner_text() == "Vue nationale des GPO transports"
    for ident in (
        "graphique-problemes",
        "graphique-reunions",
        "graphique-incidents-mois",
        "graphique-incidents",
    ):
        chart = page.locator(f"svg#{ident}")
        assert chart.is_visible(), ident
    resolved = page.locator("svg#graphique-problemes rect.bar.s1")
    assert sum(int(c) for c in resolved.evaluate_all("els => els.map(e => e.dataset.count)")) == 1
    meetings = page.locator("svg#graphique-reunions rect.bar")
    assert meetings.evaluate_all("els => els.map(e => [e.dataset.label, e.dataset.count])") == [
        ["Département 31", "2"],
        ["Département 83", "1"],
    ]
    monthly = page.locator("svg#graphique-incidents-mois rect.bar")
    assert sum(int(c) for c in monthly.evaluate_all("els => els.map(e => e.dataset.count)")) == 2
    assert page.locator("#table-problemes tr[data-key='31'] td.identifies").inner_text() == "2"
    assert page.locator("#table-incidents tr[data-key='31'] td.incidents").inner_text() == "2"
    assert axe_violations(page) == []
    html = page.content()
    assert not [value for value in PERSONAL if value in html]
    screenshot(page, "national-view", readme=True)

    with page.expect_download() as info:
        page.locator("#export-csv").click()
    download = info.value
    assert download.suggested_filename.startswith("gpo-national-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [(r["niveau"], r["code"], r["incidents"]) for r in rows] == [
        ("departement", "31", "2"),
        ("departement", "83", "0"),
        ("total_national", "national", "2"),
    ]

    page.get_by_role("link", name="Département 31").click()
    page.wait_for_load_state("networkidle")
    assert page.url.split("?")[0].endswith("/national/departements/31")
    assert page.locator("#table-gpo tr[data-key='gpo-toulouse'] td.reunions").inner_text() == "2"
    assert axe_violations(page) == []


def test_departement_lands_on_its_page_and_sees_errors_under_fields(
    live_server: LiveServer, seeded: None, signed_in: Callable[[str], Any]
) -> None:
    page = signed_in(DIRECTION)
    assert page.url.split("?")[0].endswith("/national/departements/31")
    assert "GPO transports Toulon" not in page.content()
    page.fill("#du", "2026-03-10")
    page.fill("#au", "2026-03-01")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#au-erreur").inner_text() == "La fin de la période est avant son début."
    assert page.locator("#au").get_attribute("aria-invalid") == "true"
    assert page.locator("#du-erreur").count() == 0
    assert axe_violations(page) == []
    response = page.request.get(f"{live_server.url}/national/departements/83")
    assert response.status == 404


def test_hotspots_heat_table_and_map(
    live_server: LiveServer, seeded: None, signed_in: Callable[[str], Any]
) -> None:
    page = signed_in(REFERENT)
    page.goto(f"{live_server.url}/national/points-chauds")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/gpo/gpo-toulouse/points-chauds")
    table = page.locator("table.chaleur[data-ligne='demo:A']")
    assert table.is_visible()
    cells = table.locator("td").evaluate_all("els => els.map(e => e.textContent)")
    assert sum(int(c) for c in cells if c.isdigit()) == 2
    row = page.locator("#table-arrets tr[data-arret='demo:SA_capitole']")
    assert row.get_attribute("data-ouvert") == "oui"
    marker = page.locator(".leaflet-marker-icon[data-arret='demo:SA_capitole']")
    assert marker.inner_text() == "2"
    assert axe_violations(page) == []
    screenshot(page, "hotspots")
