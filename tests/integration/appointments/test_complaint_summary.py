"""The pre-filled complaint summary, for the officers of the appointment's station only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from intake_service.models import AuditEntry
from tests.appointment_data import (
    add_request,
    add_slot,
    add_station,
    book,
    page_client,
    victim_sheet,
)
from tests.factories import create_tokens

SLOT_START = dt.datetime(2026, 3, 16, 8, 30, tzinfo=dt.UTC)
IN_PERSON = "Audition en présentiel, pas de plainte par visioconférence"


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    tokens = create_tokens(db, clock.now)
    add_station(db, clock.now)
    add_station(db, clock.now, "csp-blagnac", insee_code="31069", name="Commissariat de Blagnac")
    return tokens


def appointment_for(app: Any, db: Any, clock: Any, headers: Any, sheet: dict[str, Any]) -> int:
    response = app.test_client().post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 201, response.get_json()
    request_id = add_request(db, response.get_json()["id"], clock.now)
    return book(db, request_id, add_slot(db, "csp-toulouse", SLOT_START), clock.now)


def summary_reads(db: Any) -> list[AuditEntry]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == "appointment.summary.read")
            )
        )


def test_the_station_officer_reads_the_summary_and_the_read_is_audited(app, db, clock, headers):
    appointment_id = appointment_for(app, db, clock, headers, victim_sheet("TSO-SUM-1"))
    officer = page_client(app, db, clock.now, "station_officer", "csp-toulouse")

    response = officer.get(f"/commissariat/rendez-vous/{appointment_id}/synthese")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for expected in (
        "Synthèse pré-remplie pour le dépôt de plainte",
        "14/03/2026 à 18:24",  # occurred_at in Paris time
        "Agression physique d&#39;agent",
        "Le conducteur de la ligne 13 est frappé",
        "Veste rouge.",  # suspects' description
        "Sur place",
        "Conducteur",  # the victim's function
        "agent.fictif@example.org",
        "Caméras embarquées",
        "réquisitionner les images avant le 21/03/2026",  # erase date within a week
        "TSO-SUM-1",
        "Toulouse (31555)",
    ):
        assert expected in page, expected
    assert IN_PERSON not in page
    (entry,) = summary_reads(db)
    assert (entry.role, entry.resource_id) == ("station_officer", str(appointment_id))
    assert entry.detail["incident_id"]


def test_sexual_violence_states_the_in_person_hearing_in_the_page_and_the_pdf(
    app, db, clock, headers
):
    sheet = victim_sheet(
        "TSO-SUM-VSS",
    )
    sheet["natures"] = ["sexual_or_sexist_violence"]
    sheet["primary_nature"] = "sexual_or_sexist_violence"
    appointment_id = appointment_for(app, db, clock, headers, sheet)
    officer = page_client(app, db, clock.now, "station_officer", "csp-toulouse")

    page = officer.get(f"/commissariat/rendez-vous/{appointment_id}/synthese")
    assert IN_PERSON in page.get_data(as_text=True)

    document = officer.get(f"/commissariat/rendez-vous/{appointment_id}/synthese.pdf")
    assert document.status_code == 200
    assert document.mimetype == "application/pdf"
    assert document.data.startswith(b"%PDF")
    assert "attachment" in document.headers["Content-Disposition"]
    assert len(summary_reads(db)) == 2  # the page and the PDF


def test_another_station_or_role_never_reads_the_summary(app, db, clock, headers):
    appointment_id = appointment_for(app, db, clock, headers, victim_sheet("TSO-SUM-2"))
    url = f"/commissariat/rendez-vous/{appointment_id}/synthese"

    other = page_client(app, db, clock.now, "station_officer", "csp-blagnac")
    assert other.get(url).status_code == 404
    assert other.get(url + ".pdf").status_code == 404
    assert other.get("/commissariat/rendez-vous/999999/synthese").status_code == 404
    operator = page_client(app, db, clock.now, "operator", "tisseo")
    assert operator.get(url).status_code == 403
    assert app.test_client().get(url).status_code == 302
    assert summary_reads(db) == []
