"""The monthly statistics return over the API and its page, on SQLite and PostgreSQL:
the figures of a month against counts worked out by hand from the sheets sent, the
month's boundaries in Paris time, the sheets as they stood at the month's end, the
withdrawn left out, another operator's never in, the same bytes every time, audited
exports, and the month refused (named) when it is not over or not a month."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.models import AuditEntry
from intake_service.reporting.rules.monthly_figures import CSV_COLUMNS
from tests.conftest import Clock
from tests.reporting_data import (
    IDENTITIES,
    PASSENGER,
    STAFF,
    Headers,
    sheet,
    submit_at,
    tokens,
)

PROBLEM = "application/problem+json"
UTC = dt.UTC
CSV_URL = "/api/v1/statistics/monthly/2026-03.csv"
PDF_URL = "/api/v1/statistics/monthly/2026-03.pdf"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def scenario(app: Any, db: Any, clock: Clock) -> tuple[Any, Headers, dict[str, str]]:
    """Tisseo's and mistral's sheets around March 2026; the clock then on 2 April."""
    headers = tokens(db, clock.now)
    client = app.test_client()
    tisseo, mistral = headers["operator"], headers["other_operator"]
    ids: dict[str, str] = {}

    def send(key: str, received: str, caller: dict[str, str] = tisseo, **facts: Any) -> None:
        moment = at(received)
        made = sheet(f"M-{key}", moment - dt.timedelta(minutes=20), **facts)
        ids[key] = submit_at(client, clock, moment, caller, made)

    # 00:30 Paris on 1 March: in March.
    send("s1", "2026-02-28T23:30:00", natures=("physical_assault_staff",), victims=(STAFF,))
    send("s2", "2026-03-05T10:00:00", natures=("theft", "vandalism"), victims=(PASSENGER,))
    send(
        "s3",
        "2026-03-10T10:00:00",
        natures=("violence_passenger", "weapon"),
        victims=(STAFF, PASSENGER, PASSENGER),
        route_id=None,
        insee_code="83137",
    )
    send("s4", "2026-03-20T10:00:00", natures=("incivility",), victims=(), route_id="line:13")
    # 00:30 Paris on 1 April: in April, not March.
    send("s5", "2026-03-31T22:30:00", natures=("drugs",))
    # Withdrawn in March: left out.
    send("s6", "2026-03-15T10:00:00", natures=("vandalism",))
    clock.now = at("2026-03-15T10:05:00")
    withdrawn = client.post(
        f"/api/v1/incidents/{ids['s6']}/withdrawal", json={"reason": "Erreur."}, headers=tisseo
    )
    assert withdrawn.status_code == 200, withdrawn.get_json()
    # Mistral's: never in tisseo's return.
    send("s7", "2026-03-12T10:00:00", mistral, natures=("theft",), victims=(PASSENGER,))
    # Amended in April (after the month's end): March counts it as it stood on 31 March.
    send("s8", "2026-03-25T10:00:00", natures=("projectile",))
    # Amended in March: March counts the amendment (a second, staff, victim).
    clock.now = at("2026-03-06T08:00:00")
    amended = client.post(
        f"/api/v1/incidents/{ids['s2']}/amendments",
        json={"victims": [PASSENGER, STAFF]},
        headers=tisseo,
    )
    assert amended.status_code == 200, amended.get_json()
    clock.now = at("2026-04-01T10:00:00")
    amended = client.post(
        f"/api/v1/incidents/{ids['s8']}/amendments",
        json={"natures": ["projectile", "drugs"], "victims": []},
        headers=tisseo,
    )
    assert amended.status_code == 200, amended.get_json()
    clock.now = at("2026-04-02T09:00:00")
    return client, headers, ids


def rows_of(body: bytes) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(body.decode("utf-8")))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


FAMILY_COLUMNS = [c for c in CSV_COLUMNS if c.startswith("family_")]


def counts(row: dict[str, str]) -> dict[str, int]:
    """The row's non-zero counts."""
    keys = ["incidents", *FAMILY_COLUMNS, "staff_victims", "passenger_victims"]
    return {key: int(row[key]) for key in keys if int(row[key])}


def test_the_figures_of_the_month_are_the_sheets_counted_by_hand(scenario: Any) -> None:
    client, headers, _ = scenario
    response = client.get(CSV_URL, headers=headers["operator"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "statistiques-tisseo-2026-03.csv" in response.headers["Content-Disposition"]
    rows = rows_of(response.data)
    assert {row["month"] for row in rows} == {"2026-03"}
    assert {row["operator"] for row in rows} == {"tisseo"}
    table = [(row["breakdown"], row["code"], row["name"], counts(row)) for row in rows]
    # s1, s2, s3, s4, s8 (s5 is April's in Paris time, s6 withdrawn, s7 mistral's).
    assert table == [
        (
            "network",
            "tisseo",
            "",
            {
                "incidents": 5,
                "family_persons": 2,  # s1, s3
                "family_property": 1,  # s2 (theft and vandalism: one family)
                "family_projectile": 1,  # s8 as it stood on 31 March
                "family_weapons": 1,  # s3
                "family_incivility": 1,  # s4
                "staff_victims": 4,  # s1, s2 (amended in March), s3, s8
                "passenger_victims": 3,  # s2, s3 (two)
            },
        ),
        (
            "line",
            "",
            "sans ligne",
            {
                "incidents": 1,
                "family_persons": 1,
                "family_weapons": 1,
                "staff_victims": 1,
                "passenger_victims": 2,
            },
        ),
        ("line", "line:13", "", {"incidents": 1, "family_incivility": 1}),
        (
            "line",
            "line:142",
            "",
            {
                "incidents": 3,
                "family_persons": 1,
                "family_property": 1,
                "family_projectile": 1,
                "staff_victims": 3,
                "passenger_victims": 1,
            },
        ),
        (
            "commune",
            "31555",
            "Toulouse",
            {
                "incidents": 4,
                "family_persons": 1,
                "family_property": 1,
                "family_projectile": 1,
                "family_incivility": 1,
                "staff_victims": 3,
                "passenger_victims": 1,
            },
        ),
        (
            "commune",
            "83137",
            "Toulon",
            {
                "incidents": 1,
                "family_persons": 1,
                "family_weapons": 1,
                "staff_victims": 1,
                "passenger_victims": 2,
            },
        ),
    ]


def test_another_operator_gets_its_own_network_only(scenario: Any) -> None:
    client, headers, _ = scenario
    rows = rows_of(client.get(CSV_URL, headers=headers["other_operator"]).data)
    assert next((row["breakdown"], counts(row)) for row in rows) == (
        "network",
        {"incidents": 1, "family_property": 1, "passenger_victims": 1},
    )
    assert {row["operator"] for row in rows} == {"mistral"}


def test_same_month_same_bytes_and_same_pdf_figures(scenario: Any, clock: Clock) -> None:
    client, headers, ids = scenario
    first_csv = client.get(CSV_URL, headers=headers["operator"]).data
    first_pdf = client.get(PDF_URL, headers=headers["operator"]).data
    # Later, after another amendment of a March sheet: March does not move.
    clock.now = at("2026-05-10T09:00:00")
    amended = client.post(
        f"/api/v1/incidents/{ids['s1']}/amendments",
        json={"natures": ["drugs"], "primary_nature": "drugs", "victims": []},
        headers=headers["operator"],
    )
    assert amended.status_code == 200, amended.get_json()
    assert client.get(CSV_URL, headers=headers["operator"]).data == first_csv
    later_pdf = client.get(PDF_URL, headers=headers["operator"]).data
    assert pdf_text(later_pdf) == pdf_text(first_pdf)
    # April holds s5 and not the March sheets.
    april = rows_of(
        client.get("/api/v1/statistics/monthly/2026-04.csv", headers=headers["operator"]).data
    )
    assert counts(april[0]) == {"incidents": 1, "family_drugs": 1, "staff_victims": 1}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_shows_the_figures_and_no_identity(scenario: Any) -> None:
    client, headers, _ = scenario
    response = client.get(PDF_URL, headers=headers["operator"])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "mars 2026" in text
    assert "Incidents signalés 5" in " ".join(text.split())
    assert "Toulon (83137)" in text
    assert "Toulouse (31555)" in text
    flat = " ".join(text.split())
    # Each row: incidents, staff and passenger victims, the families largest first.
    assert "Sans ligne 1 1 2 atteintes aux personnes 1, armes et colis suspects 1" in flat
    assert (
        "Toulouse (31555) 4 3 1 atteintes aux personnes 1, atteintes aux biens 1, "
        "jets de projectiles 1, incivilités 1" in flat
    )
    assert "Atteintes aux personnes 2 Atteintes aux biens 1 Jets de projectiles 1" in flat
    assert [value for value in IDENTITIES if value in text] == []


def test_every_export_is_audited(scenario: Any, db: Any) -> None:
    client, headers, _ = scenario
    client.get(CSV_URL, headers=headers["operator"])
    client.get(PDF_URL, headers=headers["other_operator"])
    with db.transaction() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "statistics.monthly.export")
            .order_by(AuditEntry.id)
        ).all()
        audited = [(e.scope, e.resource_id, e.detail) for e in entries]
    assert audited == [
        ("tisseo", "tisseo", {"format": "csv", "month": "2026-03", "incidents": 5}),
        ("mistral", "mistral", {"format": "pdf", "month": "2026-03", "incidents": 1}),
    ]


@pytest.mark.parametrize(
    "month", ["2026-04", "2026-05", "2027-01", "2026-13", "2026-00", "mars", "2026-3", "1999-12"]
)
def test_a_month_not_over_or_not_a_month_is_refused_by_name(scenario: Any, month: str) -> None:
    client, headers, _ = scenario
    for extension in ("csv", "pdf"):
        response = client.get(
            f"/api/v1/statistics/monthly/{month}.{extension}", headers=headers["operator"]
        )
        assert response.status_code == 422, response.get_data(as_text=True)
        assert response.mimetype == PROBLEM
        assert [error["field"] for error in response.get_json()["errors"]] == ["month"]


def test_only_operators_get_a_return(scenario: Any) -> None:
    client, headers, _ = scenario
    for caller in ("command_centre", "gpo_referent", "gpo_partner", "admin", "national"):
        response = client.get(CSV_URL, headers=headers[caller])
        assert response.status_code == 403, caller
    assert client.get(CSV_URL).status_code == 401


# --- the page ------------------------------------------------------------------------------


def signed_in(app: Any, db: Any, clock: Clock, email: str, role: str, scope: str) -> Any:
    with db.transaction() as session:
        add_user(session, email, "mot-de-passe-de-test", role, scope, now=clock.now)
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/connexion", data={"email": email, "password": "mot-de-passe-de-test"})
    assert response.status_code == 302
    return client


def test_the_page_downloads_the_return_and_names_a_wrong_month(
    app: Any, db: Any, clock: Clock, scenario: Any
) -> None:
    client_api, headers, _ = scenario
    page = signed_in(app, db, clock, "stats@tisseo.test", "operator", "tisseo")
    form = page.get("/statistiques/mensuelles")
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert 'type="month"' in text
    assert 'value="2026-03"' in text
    downloaded = page.get("/statistiques/mensuelles?mois=2026-03&format=csv")
    assert downloaded.status_code == 200
    assert downloaded.data == client_api.get(CSV_URL, headers=headers["operator"]).data
    pdf = page.get("/statistiques/mensuelles?mois=2026-03&format=pdf")
    assert pdf.mimetype == "application/pdf"
    for month, message in (("2026-04", "pas terminé"), ("2026-99", "Mois invalide")):
        refused = page.get(f"/statistiques/mensuelles?mois={month}&format=csv")
        assert refused.status_code == 422
        body = refused.get_data(as_text=True)
        assert 'id="mois-erreur"' in body
        assert message in body
        assert 'aria-invalid="true"' in body
