"""CCTV requisitions on the pages, on SQLite and PostgreSQL: the CIC requests from the
console's incident page, the operator sees the countdown on its follow-up page and
answers each step there; a stale form is refused in French; the measures page counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake_service.access.accounts import add_user
from intake_service.territory import zones
from tests.directory_data import ZONES, toulouse_sheet
from tests.factories import BASE_SHEET, create_tokens

PASSWORD = "mot-de-passe-de-test"


@pytest.fixture
def headers(app: Any, db: Any, clock: Any) -> dict[str, dict[str, str]]:
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests (tests/e2e)
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
        add_user(session, "cic@ddsp31.test", PASSWORD, "command_centre", "ddsp-31", now=clock.now)
        add_user(session, "pc@tisseo.test", PASSWORD, "operator", "tisseo", now=clock.now)
    return headers


def browser(app: Any, email: str) -> FlaskClient:
    client: FlaskClient = app.test_client()
    signed = client.post("/connexion", data={"email": email, "password": PASSWORD})
    assert signed.status_code == 302
    return client


def test_requested_on_the_console_answered_on_the_follow_up_page(
    app: Any, db: Any, clock: Any, headers: Any
) -> None:
    deadline = clock.now + dt.timedelta(hours=5, minutes=12, seconds=30)
    video = {**BASE_SHEET["video"], "erased_after": deadline.isoformat()}
    incident_id = (
        app.test_client()
        .post(
            "/api/v1/incidents",
            json=toulouse_sheet("TSO-CCTV-PAGE", video=video),
            headers=headers["operator"],
        )
        .get_json()["id"]
    )
    cic = browser(app, "cic@ddsp31.test")
    console = cic.get(f"/console/incidents/{incident_id}").get_data(as_text=True)
    assert "Réquisitions d&#39;images" in console or "Réquisitions d'images" in console
    assert "Réquisitionner les images" in console
    blank = cic.post(f"/console/incidents/{incident_id}/videoprotection", data={"what": " "})
    assert blank.status_code == 303
    assert "Images demandées" in cic.get(blank.headers["Location"]).get_data(as_text=True)
    asked = cic.post(
        f"/console/incidents/{incident_id}/videoprotection",
        data={"what": "Caméras du bus 1742, 18 h 15 – 18 h 40"},
    )
    assert asked.status_code == 303
    assert asked.headers["Location"].endswith(f"/console/incidents/{incident_id}#videoprotection")
    page = cic.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Réquisition envoyée à l" in page
    assert "effacement dans 5 h 12" in page
    assert "Caméras du bus 1742" in page

    operator = browser(app, "pc@tisseo.test")
    follow_up = operator.get(f"/operateur/incidents/{incident_id}").get_data(as_text=True)
    assert "effacement dans 5 h 12" in follow_up
    assert "Images extraites" in follow_up
    assert "Réquisitionner les images" not in follow_up
    (requisition_id,) = [
        part.split('"')[0]
        for part in follow_up.split('id="requisition-')[1:]
        if not part.startswith("what")
    ]
    step = f"/operateur/videoprotection/{requisition_id}"
    stale = operator.post(
        step, data={"state": "extracted", "extraction_reference": "EXT-9", "version": "7"}
    )
    assert stale.status_code == 303
    assert "a changé depuis" in operator.get(stale.headers["Location"]).get_data(as_text=True)
    done = operator.post(
        step, data={"state": "extracted", "extraction_reference": "EXT-9", "version": "1"}
    )
    assert done.status_code == 303
    after = operator.get(done.headers["Location"]).get_data(as_text=True)
    assert "Réquisition extraite." in after
    assert "référence EXT-9" in after
    assert "Extrait remis" in after  # the next step is offered
    # The CIC's console shows it extracted; the police side has no step forms.
    console = cic.get(f"/console/incidents/{incident_id}").get_data(as_text=True)
    assert "référence EXT-9" in console
    assert "Extrait remis" not in console
    assert cic.post(step, data={"state": "erased", "reason": "x", "version": "2"}).status_code == (
        403
    )

    measures = cic.get("/videoprotection/indicateurs")
    assert measures.status_code == 200
    html = measures.get_data(as_text=True)
    assert "ddsp-31" in html
    assert "1 (100 %)" in html
