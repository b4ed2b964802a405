"""Appointment measures per operator and station, each caller in its own scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from intake_service.models import Appointment
from tests.appointment_data import (
    add_request,
    add_slot,
    add_station,
    book,
    page_client,
    victim_sheet,
)
from tests.factories import create_tokens

URL = "/api/v1/appointments/measures"


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    tokens = create_tokens(db, clock.now)
    add_station(db, clock.now)
    add_station(db, clock.now, "csp-toulon", insee_code="83137", name="Commissariat de Toulon")
    return tokens


def incident(app: Any, token: dict[str, str], reference: str) -> str:
    response = app.test_client().post(
        "/api/v1/incidents", json=victim_sheet(reference), headers=token
    )
    assert response.status_code == 201, response.get_json()
    incident_id: str = response.get_json()["id"]
    return incident_id


@pytest.fixture
def history(app: Any, db: Any, clock: Any, headers: Any) -> dict[str, int]:
    """tisseo: one booked in 40 h (then honoured), one waiting, one offer; mistral: one
    booked in 10 h at Toulon (past, not marked). Then three days pass."""
    now = clock.now
    honoured_request = add_request(db, incident(app, headers["operator"], "M-1"), now)
    honoured = book(
        db, honoured_request, add_slot(db, "csp-toulouse", now + dt.timedelta(hours=40)), now
    )
    add_request(db, incident(app, headers["operator"], "M-2"), now, state="waiting")
    add_request(db, incident(app, headers["operator"], "M-3"), now, state="offered")
    toulon_request = add_request(
        db, incident(app, headers["other_operator"], "M-4"), now, station_code="csp-toulon"
    )
    book(db, toulon_request, add_slot(db, "csp-toulon", now + dt.timedelta(hours=10)), now)
    clock.advance(days=3)
    with db.transaction() as session:
        appointment = session.get(Appointment, honoured)
        assert appointment is not None
        appointment.status = "honoured"
    return {"honoured": honoured}


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in rows}


def test_the_referent_sees_every_operator_and_station(app, headers, history):
    response = app.test_client().get(URL, headers=headers["gpo_referent"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    total = body["total"]
    assert (total["eligible"], total["booked"], total["share_booked"]) == (3, 2, 0.667)
    assert total["median_delay_hours"] == 25.0  # median of 40 h and 10 h
    assert (total["past"], total["honoured"], total["missed"]) == (2, 1, 0)
    assert (total["share_honoured"], total["share_missed"]) == (0.5, 0.0)
    operators = by_key(body["by_operator"])
    assert operators["tisseo"]["eligible"] == 2
    assert operators["tisseo"]["share_booked"] == 0.5
    assert operators["tisseo"]["median_delay_hours"] == 40.0
    assert operators["mistral"]["median_delay_hours"] == 10.0
    assert operators["mistral"]["share_honoured"] == 0.0
    stations = by_key(body["by_station"])
    assert set(stations) == {"csp-toulouse", "csp-toulon"}
    assert stations["csp-toulouse"]["name"] == "Commissariat central de Toulouse"
    assert app.test_client().get(URL, headers=headers["admin"]).get_json()["total"] == total


def test_an_operator_and_a_station_see_only_their_own(app, headers, history):
    client = app.test_client()
    tisseo = client.get(URL, headers=headers["operator"]).get_json()
    assert [row["key"] for row in tisseo["by_operator"]] == ["tisseo"]
    assert tisseo["total"]["eligible"] == 2
    assert client.get(URL + "?operator=mistral", headers=headers["operator"]).status_code == 404

    station = client.get(URL, headers=headers["station_officer"]).get_json()
    assert [row["key"] for row in station["by_station"]] == ["csp-toulouse"]
    assert station["total"]["booked"] == 1
    assert (
        client.get(URL + "?station=csp-toulon", headers=headers["station_officer"]).status_code
        == 404
    )


def test_filters_period_and_access(app, headers, history, clock):
    client = app.test_client()
    only_toulon = client.get(URL + "?station=csp-toulon", headers=headers["admin"]).get_json()
    assert only_toulon["total"]["eligible"] == 1
    later = client.get(URL + "?from=2026-03-15", headers=headers["admin"]).get_json()
    assert later["total"]["eligible"] == 0
    assert later["total"]["share_booked"] is None
    assert later["from"] == "2026-03-14T23:00:00+00:00"  # Paris midnight
    bad = client.get(URL + "?from=2026-03-15&to=2026-03-01", headers=headers["admin"])
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"
    assert client.get(URL + "?colour=red", headers=headers["admin"]).status_code == 422
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=headers["gpo_partner"]).status_code == 403
    assert client.get(URL, headers=headers["command_centre"]).status_code == 403


def test_the_measures_page(app, db, clock, headers, history):
    client = page_client(app, db, clock.now, "gpo_referent", "gpo-toulouse")
    page = client.get("/rendez-vous/indicateurs").get_data(as_text=True)
    assert "Indicateurs des rendez-vous de plainte" in page
    assert "Commissariat de Toulon" in page
    assert "67 %" in page  # booked share
    operator = page_client(app, db, clock.now, "operator", "tisseo")
    assert "Commissariat de Toulon" not in operator.get("/rendez-vous/indicateurs").get_data(
        as_text=True
    )
    assert operator.get("/rendez-vous/indicateurs?operateur=mistral").status_code == 404
