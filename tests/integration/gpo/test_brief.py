"""The assessment and the meeting brief over the API, on SQLite and PostgreSQL: figures,
the referent's version (audited reads), the partners' version without personal data,
audited exports, scopes and named errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.models import AuditEntry
from intake_service.platform.db import Database
from tests.access_seeds.gpo_assessment import PERSONAL, TITLE, Scenario, build_scenario
from tests.conftest import Clock
from tests.factories import create_tokens

PROBLEM = "application/problem+json"
SVG_NS = {"svg": "http://www.w3.org/2000/svg"}


@pytest.fixture
def setup(app: Any, db: Database, clock: Clock) -> tuple[FlaskClient, dict[str, Any], Scenario]:
    tokens = create_tokens(db, clock.now)
    scenario = build_scenario(app, clock.now)
    return app.test_client(), tokens, scenario


def audit_entries(db: Database, action: str) -> list[AuditEntry]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def brief_url(scenario: Scenario, suffix: str = "") -> str:
    return f"/api/v1/gpos/gpo-toulouse/brief{suffix}?date={scenario.meeting_date.isoformat()}"


def chart_url(scenario: Scenario) -> str:
    return f"/api/v1/problems/{scenario.problem_id}/assessment.svg"


def printed(text: str) -> str:
    """A chart's text as the PDF draws it (its core font spells what is outside Latin-1)."""
    return text.replace("—", "-").replace("…", "...")


def assert_chart_of_the_page_in(text: str, page_chart: Any, pivot: dt.date) -> None:
    """The brief's PDF draws the chart the assessment page shows: its title, legend,
    each week's label and each action's start (the drawn text of the page's SVG)."""
    assert page_chart.status_code == 200
    root = ET.fromstring(page_chart.data)  # noqa: S314 - our own output, under test
    drawn = [
        element.text
        for element in root.iter(f"{{{SVG_NS['svg']}}}text")
        if element.text and not element.text.isdigit()  # tick values: lone digits anywhere
    ]
    assert f"Incidents par semaine — {TITLE}" in drawn
    assert "Rattachés au problème" in drawn
    markers = [
        element.text for element in root.iterfind(".//svg:g[@class='marker']/svg:text", SVG_NS)
    ]
    assert markers == [
        f"{pivot:%d/%m} Patrouilles renforcée…",
        f"{pivot + dt.timedelta(days=3):%d/%m} Nettoyage des abords",
    ]
    missing = [value for value in drawn if printed(value or "") not in text]
    assert missing == []


def test_assessment_weeks_and_before_after(setup: Any) -> None:
    client, tokens, scenario = setup
    response = client.get(
        f"/api/v1/problems/{scenario.problem_id}/assessment", headers=tokens["gpo_partner"]
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["title"] == TITLE
    # In scope: the four projectiles at Capitole (not the theft); linked: one.
    assert sum(week["in_scope"] for week in body["weeks"]) == 4
    assert sum(week["linked"] for week in body["weeks"]) == 1
    assert all(dt.date.fromisoformat(w["week"]).weekday() == 0 for w in body["weeks"])
    # The done action still marks when it started; markers in date order.
    assert [m["label"] for m in body["markers"]] == [
        "Patrouilles renforcées le soir",
        "Nettoyage des abords",
    ]
    figures = body["before_after"]
    # Default pivot: the first action's start; window: the 21 days since.
    assert figures["pivot"] == scenario.pivot.isoformat()
    assert figures["window_days"] == 21
    assert figures["before"]["count"] == 2
    assert figures["after"]["count"] == 2
    assert figures["change"]["count_pct"] == 0.0
    assert figures["before"]["staff_share_pct"] == 100.0
    assert figures["before"]["severities"]["minor"] == 2

    # A chosen pivot (between the two new incidents) and a longer window.
    chosen = (scenario.meeting_date - dt.timedelta(days=5)).isoformat()
    response = client.get(
        f"/api/v1/problems/{scenario.problem_id}/assessment?pivot={chosen}&window_days=60",
        headers=tokens["gpo_referent"],
    )
    figures = response.get_json()["before_after"]
    assert (figures["before"]["count"], figures["after"]["count"]) == (3, 1)
    assert figures["change"]["count_pct"] == pytest.approx(-66.7)
    assert figures["complete"] is False


def test_assessment_chart_is_svg_with_bars(setup: Any) -> None:
    client, tokens, scenario = setup
    response = client.get(
        f"/api/v1/problems/{scenario.problem_id}/assessment.svg", headers=tokens["gpo_referent"]
    )
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)  # noqa: S314 - our own output, under test
    counts = [
        int(rect.get("data-count", "0"))
        for rect in root.iterfind(".//svg:rect", SVG_NS)
        if rect.get("class") == "bar in-scope"
    ]
    assert sum(counts) == 4
    assert len(root.findall(".//svg:g[@class='marker']", SVG_NS)) == 2


def test_bad_arguments_are_named_and_scopes_hold(setup: Any) -> None:
    client, tokens, scenario = setup
    url = f"/api/v1/problems/{scenario.problem_id}/assessment"
    response = client.get(f"{url}?pivot=2026-02-31&window_days=0", headers=tokens["gpo_referent"])
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert fields == {"pivot", "window_days"}
    response = client.get(f"{url}?pivot=0001-01-01", headers=tokens["gpo_referent"])
    assert response.status_code == 422
    response = client.get(
        brief_url(scenario).replace("date=", "date=demain"), headers=tokens["gpo_referent"]
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["date"]
    # Another GPO's problem and brief: absent. Another role: refused.
    other = f"/api/v1/problems/{scenario.var_problem_id}/assessment"
    assert client.get(other, headers=tokens["gpo_referent"]).status_code == 404
    assert client.get(other + ".svg", headers=tokens["gpo_partner"]).status_code == 404
    assert (
        client.get("/api/v1/gpos/gpo-var/brief", headers=tokens["gpo_referent"]).status_code == 404
    )
    assert client.get(url, headers=tokens["station_officer"]).status_code == 403
    assert client.get(brief_url(scenario), headers=tokens["operator"]).status_code == 403
    assert client.get(url).status_code == 401


def test_referent_brief_lists_new_incidents_actions_and_audits_the_reads(
    setup: Any, db: Database
) -> None:
    client, tokens, scenario = setup
    response = client.get(brief_url(scenario), headers=tokens["gpo_referent"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["version"] == "referent"
    (problem,) = [p for p in body["problems"] if p["id"] == scenario.problem_id]
    # Since the meeting ten days ago: the two new projectiles (not the theft, out of scope).
    assert problem["new_count"] == 2
    assert problem["new_linked_count"] == 1
    ids = [line["id"] for line in problem["incidents"]]
    assert ids == [scenario.incident_ids["new-linked"], scenario.incident_ids["new"]]
    assert problem["incidents"][0]["linked"] is True
    assert "Zéphyrin" in problem["incidents"][0]["excerpt"]
    assert [a["what"] for a in problem["actions_late"]] == ["Patrouilles renforcées le soir"]
    assert [a["what"] for a in problem["actions_due"]] == ["Intervention au collège voisin"]
    assert problem["assessment"]["before"]["count"] == 2
    # Each incident the referent read (its narrative's excerpt) is in the audit log.
    reads = audit_entries(db, "incident.read")
    assert {entry.resource_id for entry in reads} >= set(ids)
    assert all(entry.detail.get("via") == "gpo.brief" for entry in reads)
    assert audit_entries(db, "gpo.brief.export") == []


def test_partner_brief_has_no_personal_data_in_json_csv_or_pdf(setup: Any, db: Database) -> None:
    client, tokens, scenario = setup
    response = client.get(brief_url(scenario), headers=tokens["gpo_partner"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == "partner"
    (problem,) = [p for p in body["problems"] if p["id"] == scenario.problem_id]
    assert problem["new_count"] == 2
    # By construction: a day, a stop, natures; nothing else.
    for line in problem["incidents"]:
        assert set(line) == {"occurred_on", "stop", "natures"}
        assert line["stop"] == "Capitole"
    csv_response = client.get(brief_url(scenario, ".csv"), headers=tokens["gpo_partner"])
    assert csv_response.status_code == 200
    assert csv_response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True))))
    (row,) = [r for r in rows if r["probleme"] == TITLE]
    assert row["nouveaux_incidents"] == "2"
    assert row["actions_en_retard"] == "1"
    pdf_response = client.get(brief_url(scenario, ".pdf"), headers=tokens["gpo_partner"])
    assert pdf_response.status_code == 200
    assert pdf_response.mimetype == "application/pdf"
    text = pdf_text(pdf_response.data)
    assert "Capitole" in text
    assert "sans données personnelles" in text
    assert_chart_of_the_page_in(
        text, client.get(chart_url(scenario), headers=tokens["gpo_partner"]), scenario.pivot
    )
    outputs = {
        "json": response.get_data(as_text=True),
        "csv": csv_response.get_data(as_text=True),
        "pdf": text,
    }
    leaks = [(kind, value) for kind, out in outputs.items() for value in PERSONAL if value in out]
    assert leaks == []
    # Nothing personal was read: no incident read recorded; both exports are.
    assert audit_entries(db, "incident.read") == []
    exports = audit_entries(db, "gpo.brief.export")
    assert sorted(e.detail["format"] for e in exports) == ["csv", "pdf"]
    assert {e.detail["version"] for e in exports} == {"partner"}
    assert {e.resource_id for e in exports} == {"gpo-toulouse"}


def test_referent_exports_are_audited(setup: Any, db: Database) -> None:
    client, tokens, scenario = setup
    csv_response = client.get(brief_url(scenario, ".csv"), headers=tokens["gpo_referent"])
    rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True))))
    assert [r["incident_id"] for r in rows] == [
        scenario.incident_ids["new-linked"],
        scenario.incident_ids["new"],
    ]
    assert rows[0]["rattache"] == "oui"
    pdf_response = client.get(brief_url(scenario, ".pdf"), headers=tokens["gpo_referent"])
    text = pdf_text(pdf_response.data)
    assert "Zéphyrin" in text
    assert_chart_of_the_page_in(
        text, client.get(chart_url(scenario), headers=tokens["gpo_referent"]), scenario.pivot
    )
    exports = audit_entries(db, "gpo.brief.export")
    assert sorted(e.detail["format"] for e in exports) == ["csv", "pdf"]
    assert {e.detail["version"] for e in exports} == {"referent"}
    assert all(e.role == "gpo_referent" for e in exports)
    assert len(audit_entries(db, "incident.read")) == 4  # two incidents, two exports


def _signed_in(app: Any, db: Database, clock: Clock, role: str, scope: str) -> FlaskClient:
    email = f"{role.replace('_', '-')}@brief.test"
    with db.transaction() as session:
        add_user(session, email, "mot-de-passe-de-test", role, scope, now=clock.now)
    client: FlaskClient = app.test_client()
    signed = client.post("/connexion", data={"email": email, "password": "mot-de-passe-de-test"})
    assert signed.status_code == 302
    return client


def test_pages_scope_errors_and_audit(setup: Any, app: Any, db: Database, clock: Clock) -> None:
    _, _, scenario = setup
    app.config["WTF_CSRF_ENABLED"] = False
    referent = _signed_in(app, db, clock, "gpo_referent", "gpo-toulouse")
    partner = _signed_in(app, db, clock, "gpo_partner", "gpo-toulouse:pm-toulouse")
    # Another GPO's problem and meeting: absent, on every page.
    for path in (
        f"/gpo/problemes/{scenario.var_problem_id}/evaluation",
        f"/gpo/problemes/{scenario.var_problem_id}/graphique.svg",
        "/gpo/gpo-var/reunion",
        "/gpo/gpo-var/reunion.csv",
        "/gpo/gpo-var/reunion.pdf",
    ):
        assert referent.get(path).status_code == 404, path
    # A bad date on the page is named next to its field; the default is used meanwhile.
    page = referent.get(f"/gpo/problemes/{scenario.problem_id}/evaluation?pivot=31/02&fenetre=0")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Date invalide" in html
    assert "Nombre de jours entre 1 et 366" in html
    assert referent.get("/gpo/gpo-toulouse/reunion.csv?date=hier").status_code == 400
    assert audit_entries(db, "gpo.brief.export") == []

    day = scenario.meeting_date.isoformat()
    page = referent.get(f"/gpo/gpo-toulouse/reunion?date={day}")
    assert "Zéphyrin" in page.get_data(as_text=True)
    assert len(audit_entries(db, "incident.read")) == 2
    page = partner.get(f"/gpo/gpo-toulouse/reunion?date={day}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert [value for value in PERSONAL if value in html] == []
    assert partner.get(f"/gpo/gpo-toulouse/reunion.csv?date={day}").status_code == 200
    (export,) = audit_entries(db, "gpo.brief.export")
    assert (export.role, export.detail["format"], export.detail["version"]) == (
        "gpo_partner",
        "csv",
        "partner",
    )
    assert len(audit_entries(db, "incident.read")) == 2
