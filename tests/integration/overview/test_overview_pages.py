"""The national view's pages on SQLite and PostgreSQL: the ministry's national page and a
département's, the direction landing on its own, the form's errors under their fields,
audited exports, the hotspots pages; never a personal datum."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from intake_service.models import AuditEntry
from intake_service.platform.db import Database
from tests.appointment_data import page_client
from tests.conftest import Clock
from tests.factories import create_tokens
from tests.integration.overview import overview_seed as scenario
from tests.integration.overview.overview_seed import FIRST, LAST, Seeded
from tests.integration.overview.test_national_view import (
    PERSONAL,
    covered,
    expected_unit,
    gpo_codes,
    month,
)

QUERY = f"du={FIRST.isoformat()}&au={LAST.isoformat()}"


@pytest.fixture
def seeded(app: Any, db: Database, clock: Clock) -> Seeded:
    return scenario.seed(app, db, clock, create_tokens(db, clock.now))


def test_national_page_shows_each_department(
    app: Any, db: Database, clock: Clock, seeded: Seeded
) -> None:
    client = page_client(app, db, clock.now, "national", "*")
    home = client.get("/")
    assert home.status_code == 302
    assert home.headers["Location"] == "/national/"
    page = client.get(f"/national/?{QUERY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for code in ("13", "31"):
        expected = expected_unit(gpo_codes(code), seeded, single=False)
        assert f'href="/national/departements/{code}?' in html
        row = html.split(f'<tr data-key="{code}"')[2].split("</tr>")[0]  # the problems' table
        assert f'<td class="identifies">{expected["problems"]["identified"]}</td>' in row
        assert f'<td class="resolus">{expected["problems"]["resolved"]}</td>' in row
    for ident in (
        "graphique-problemes",
        "graphique-reunions",
        "graphique-incidents-mois",
        "graphique-incidents",
    ):
        assert f'id="{ident}"' in html
    # Incidents per month: the scenario's, month by month.
    counted = set().union(*(covered(code) for code in gpo_codes(None)))
    per_month = Counter(month(i.occurred) for i in scenario.INCIDENTS if i.key in counted)
    chart = html.split('id="graphique-incidents-mois"')[1].split("</svg>")[0]
    for key, count in per_month.items():
        assert f'data-month="{key}" data-count="{count}"' in chart, key
    assert not [value for value in PERSONAL if value in html]
    assert not [i for i in seeded.incident_ids.values() if i in html]


def test_departement_lands_on_its_own_page_only(
    app: Any, db: Database, clock: Clock, seeded: Seeded
) -> None:
    client = page_client(app, db, clock.now, "departement", "31")
    assert client.get("/").headers["Location"] == "/national/"
    landing = client.get(f"/national/?{QUERY}")
    assert landing.status_code == 302
    assert landing.headers["Location"].startswith("/national/departements/31?")
    page = client.get(f"/national/departements/31?{QUERY}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "GPO transports Toulouse Nord" in html
    assert "GPO transports Marseille" not in html
    for path in ("", "/export.csv", "/export.pdf"):
        assert client.get(f"/national/departements/13{path}").status_code == 404, path
    assert client.get("/national/departements/XX").status_code == 404
    assert client.get("/national/points-chauds").status_code == 403


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("du=2026-02-31", {"du"}),
        ("du=hier&au=demain", {"du", "au"}),
        ("du=2026-03-10&au=2026-03-01", {"au"}),
        ("du=2030-01-01", {"du"}),
        ("du=2020-01-01&au=2026-01-01", {"au"}),
    ],
)
def test_bad_period_shows_errors_under_the_fields(
    app: Any, db: Database, clock: Clock, seeded: Seeded, query: str, fields: set[str]
) -> None:
    client = page_client(app, db, clock.now, "national", "*")
    for url in (f"/national/?{query}", f"/national/points-chauds?{query}"):
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        shown = {name for name in ("du", "au") if f'id="{name}-erreur"' in html}
        assert shown == fields, url
    assert client.get(f"/national/export.csv?{query}").status_code == 400


def test_page_exports_are_audited(app: Any, db: Database, clock: Clock, seeded: Seeded) -> None:
    client = page_client(app, db, clock.now, "departement", "31")
    response = client.get(f"/national/departements/31/export.csv?{QUERY}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert [r["code"] for r in csv.DictReader(io.StringIO(text))] == [
        "gpo-toulouse",
        "gpo-toulouse-nord",
        "31",
    ]
    assert not [value for value in PERSONAL if value in text]
    pdf = client.get(f"/national/departements/31/export.pdf?{QUERY}")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    with db.transaction() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "overview.export").order_by(AuditEntry.id)
        ).all()
        assert [(e.role, e.resource_id, e.detail["format"]) for e in entries] == [
            ("departement", "31", "csv"),
            ("departement", "31", "pdf"),
        ]
