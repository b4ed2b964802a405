"""The command-centre console in a real browser: the live queue, the sheet, the actions.

Sheets are submitted through the HTTP API with an operator token, as a
transport operator's system would; the console pages are driven in Chromium.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from intake_service.access.accounts import add_user
from intake_service.access.tokens import create_token
from intake_service.feed import outbox
from tests.e2e.conftest import PASSWORD, LiveServer, screenshot

CIC = "cic@ddsp31.test"
SECOND_CIC = "cic2@ddsp31.test"
REMINDER = "Appelez le 17 / la ligne directe"


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> dict[str, str]:
    """Headers of an operator token (tisseo); also opens a second ddsp-31 account."""
    now = dt.datetime.now(dt.UTC)
    with live_server.app.extensions["intake.db"].transaction() as session:
        token = create_token(session, "operator", "tisseo", "e2e console", now=now)
        add_user(session, SECOND_CIC, PASSWORD, "command_centre", "ddsp-31", now=now)
    return {"Authorization": f"Bearer {token.secret}"}


def sheet(reference: str, priority: str = "P1", *, toulon: bool = False) -> dict[str, Any]:
    """A Toulouse sheet (routed to ddsp-31) of the given priority, dated now."""
    now = dt.datetime.now(dt.UTC)
    body: dict[str, Any] = {
        "operator_reference": reference,
        "channel": "silent_alarm",
        "reported_by": {
            "role": "security_control_room",
            "name": "PC sûreté Tisséo",
            "callback_phone": "05 61 00 00 17",
        },
        "occurred_at": (now - dt.timedelta(minutes=3)).isoformat(),
        "state": "in_progress",
        "natures": ["physical_assault_staff"],
        "primary_nature": "physical_assault_staff",
        "narrative": "Le conducteur de la ligne 14 est frappé par un voyageur refusant de valider.",
        "location": {
            "mode": 3,
            "place": "on_board",
            "route_id": "demo:14",
            "stop_id": "demo:SP_jeanne-darc_14",
            "vehicle_id": "1742",
            "coordinates": {"lat": 43.60938, "lon": 1.44649, "accuracy_m": 15, "source": "avl"},
            "insee_code": "31555",
        },
        "injuries": {"count": 1, "severity": "minor"},
        "emergency_services_called": False,
        "suspects": {"count": 1, "status": "on_site", "weapon": "none"},
        "victims": [
            {
                "kind": "staff",
                "staff_function": "driver",
                "on_duty": True,
                "injury": "minor",
                "wants_to_file_complaint": "yes",
                "contact": {"name": "Agent Fictif", "phone": "06 12 34 56 78"},
            }
        ],
        "video": {
            "exists": "yes",
            "sources": ["on_board"],
            "erased_after": (now + dt.timedelta(days=7)).isoformat(),
        },
    }
    if priority == "P2":
        body["state"] = "just_happened"
    elif priority in ("P3", "P4"):
        body["state"] = "over"
        body["occurred_at"] = (now - dt.timedelta(hours=2)).isoformat()
        if priority == "P4":
            body["victims"] = []
            body["injuries"] = {"count": 0, "severity": "none"}
            body["video"] = {"exists": "no"}
    if toulon:
        body["location"] = {
            "mode": 3,
            "place": "surroundings",
            "coordinates": {"lat": 43.1242, "lon": 5.9280, "source": "gps"},
            "insee_code": "83137",
        }
    return body


def submit(live_server: LiveServer, api: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        f"{live_server.url}/api/v1/incidents", json=body, headers=api, timeout=10
    )
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def test_queue_by_priority_and_a_new_p1_live(
    signed_in: Any, live_server: LiveServer, api: dict[str, str]
) -> None:
    for reference, priority in (("Q-P4", "P4"), ("Q-P2", "P2"), ("Q-P3", "P3")):
        assert submit(live_server, api, sheet(reference, priority))["priority"] == priority
    page = signed_in(CIC)
    expect(page).to_have_url(re.compile(r"/console/$"))  # the role's landing page
    expect(page.get_by_role("columnheader", name="Priorité")).to_be_visible()
    rows = page.locator("#file tr.incident-ligne")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).get_attribute("data-priority") for i in range(3)] == ["P2", "P3", "P4"]
    expect(page.locator("#etat-connexion")).to_have_text("connecté")
    page.get_by_role("button", name="Activer le son").click()
    page.evaluate("window.pasRecharge = true")

    new = submit(live_server, api, sheet("Q-P1", "P1"))
    started = time.monotonic()
    row = page.locator(f"#incident-{new['id']}")
    expect(row).to_be_visible(timeout=1_000)
    live_after = time.monotonic() - started
    assert live_after < 1.0, f"the new P1 took {live_after:.2f} s"
    assert page.evaluate("window.pasRecharge") is True  # no reload
    expect(rows.first).to_have_attribute("id", f"incident-{new['id']}")  # on top
    expect(row.locator(".priorite")).to_have_text("P1")
    expect(row).to_contain_text(REMINDER)
    expect(row).to_contain_text("Agression physique d'agent")
    expect(row).to_contain_text("Jeanne d'Arc")
    expect(row.locator(".col-statut .statut-libelle")).to_have_text("Reçu")
    expect(page.locator("#file")).to_have_attribute("data-alertes-sonores", "1")  # the beep
    screenshot(page, "console", readme=True)

    # Filters: only the P1s of line 14.
    page.get_by_label("P1").check()
    page.get_by_label("Ligne").select_option("demo:14")
    page.get_by_role("button", name="Filtrer").click()
    expect(rows).to_have_count(1)
    expect(page.locator("#file caption")).to_contain_text("1 incident(s) affiché(s) sur 4")


def test_two_operators_on_one_incident(
    signed_in: Any, live_server: LiveServer, api: dict[str, str]
) -> None:
    """The sheet in full; one operator acknowledges, the other sees it at once, and his
    own acknowledgement, from a page opened before, is refused in French."""
    new = submit(live_server, api, sheet("D-P1", "P1"))
    patch = {"suspects": {"count": 1, "status": "held_by_staff", "weapon": "blade"}}
    amended = requests.post(
        f"{live_server.url}/api/v1/incidents/{new['id']}/amendments",
        json=patch,
        headers=api,
        timeout=10,
    )
    assert amended.status_code == 200, amended.text
    url = f"{live_server.url}/console/incidents/{new['id']}"

    # The second operator: the queue in one tab, the sheet in two others.
    watcher = signed_in(SECOND_CIC)
    typist = watcher.context.new_page()
    typist.goto(url)
    reader = watcher.context.new_page()
    reader.goto(url)
    typist.get_by_label("Cause du rejet").fill("Pas notre secteur")  # typing: no reload

    page = signed_in(CIC)
    page.locator(f"#incident-{new['id']} a").click()
    expect(page.get_by_role("heading", name="Lieu")).to_be_visible()
    map_link = page.get_by_role("link", name=re.compile("Voir sur la carte"))
    expect(map_link).to_have_attribute(
        "href",
        "https://www.openstreetmap.org/?mlat=43.60938&mlon=1.44649#map=18/43.60938/1.44649",
    )
    expect(page.locator("#victimes")).to_contain_text("Agent Fictif")
    expect(page.locator("#victimes")).to_contain_text("+33612345678")
    expect(page.get_by_text("Jeanne d'Arc (demo:SP_jeanne-darc_14)")).to_be_visible()
    expect(page.locator("#compte-a-rebours")).to_contain_text("effacement dans 6 j")
    # The amendment's fields stand out.
    expect(page.locator('[data-chemin="suspects.weapon"]')).to_have_class(re.compile("modifie"))
    expect(page.locator('[data-chemin="suspects"]')).to_have_class(re.compile("modifie"))
    expect(page.locator('[data-chemin="location.place"]')).not_to_have_class(re.compile("modifie"))
    for open_page in (page, watcher, typist, reader):
        expect(open_page.locator("#etat-connexion")).to_have_text("connecté")
    screenshot(page, "console-incident")

    page.get_by_role("button", name="Prendre en compte").click()
    expect(page.get_by_role("status").filter(has_text="Incident pris en compte.")).to_be_visible()
    expect(page.locator("#statut-actuel")).to_have_text("Pris en compte")
    expect(page.locator("#historique")).to_contain_text("Pris en compte le")
    expect(page.locator("#historique")).to_contain_text(CIC)

    # The other operator's queue follows, without reload; the sheet where nothing is typed
    # reloads itself; the one being typed in says so and waits.
    expect(watcher.locator(f"#incident-{new['id']} .col-statut .statut-libelle")).to_have_text(
        "Pris en compte"
    )
    expect(reader.get_by_text("Mis à jour par un autre opérateur")).to_be_visible()
    expect(reader.locator("#statut-actuel")).to_have_text("Pris en compte")
    expect(typist.get_by_text("Mis à jour par un autre opérateur")).to_be_visible()
    expect(typist.get_by_role("button", name="Recharger la fiche")).to_be_visible()
    expect(typist.get_by_label("Cause du rejet")).to_have_value("Pas notre secteur")
    typist.get_by_role("button", name="Prendre en compte").click()
    expect(typist.get_by_role("alert")).to_contain_text(
        f"Action refusée : l'incident a déjà été pris en compte par {CIC}"
    )
    expect(typist.locator("#statut-actuel")).to_have_text("Pris en compte")

    # Closing needs a comment: said next to the field, in French; nothing typed is lost.
    page.get_by_label("Issue").select_option("arrest")
    page.get_by_role("button", name="Clôturer").click()
    expect(page.locator("#erreur-comment")).to_have_text(
        "Le commentaire est obligatoire pour clôturer."
    )
    expect(page.get_by_label("Issue")).to_have_value("arrest")
    page.get_by_label("Commentaire").fill("Auteur interpellé par l'équipage TV 31.")
    page.get_by_role("button", name="Clôturer").click()
    expect(page.get_by_text("Incident clôturé.")).to_be_visible()
    expect(watcher.locator(f"#incident-{new['id']}")).to_have_count(0)
    page.get_by_role("link", name="Incidents clôturés aujourd'hui").click()
    closed = page.get_by_role("row").filter(has_text="Auteur interpellé")
    expect(closed).to_contain_text("Interpellation")


def test_another_service_gets_404_and_another_role_403(
    live_server: LiveServer, api: dict[str, str]
) -> None:
    new = submit(live_server, api, sheet("S-P1", "P1"))
    toulon = signed_in_session(live_server, "cic@ddsp83.test")
    for path in (
        f"/console/incidents/{new['id']}",
        "/console/incidents/pas-un-identifiant",
    ):
        response = toulon.get(f"{live_server.url}{path}", timeout=10)
        assert response.status_code == 404
        assert "Page introuvable" in response.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', toulon.get(live_server.url).text)
    assert csrf is not None
    response = toulon.post(
        f"{live_server.url}/console/incidents/{new['id']}/action",
        data={"csrf_token": csrf.group(1), "action": "acknowledged"},
        timeout=10,
    )
    assert response.status_code == 404
    assert new["id"] not in toulon.get(f"{live_server.url}/console/", timeout=10).text

    operator = signed_in_session(live_server, "agent@tisseo.test")
    for path in ("/console/", f"/console/incidents/{new['id']}", "/console/flux"):
        response = operator.get(f"{live_server.url}{path}", timeout=10)
        assert response.status_code == 403
        assert "Accès refusé" in response.text


def signed_in_session(live_server: LiveServer, email: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{live_server.url}/connexion", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    response = session.post(
        f"{live_server.url}/connexion",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        timeout=10,
    )
    assert response.ok, response.status_code
    return session


def sse_events(response: requests.Response) -> Iterator[dict[str, Any]]:
    """The events of a text/event-stream response, as {id, event, data}."""
    event: dict[str, Any] = {}
    for line in response.iter_lines(chunk_size=1, decode_unicode=True):
        if not line:
            if "data" in event:
                yield event
            event = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            event[field] = json.loads(value) if field == "data" else value


def test_the_flux_resumes_after_a_reconnection(
    live_server: LiveServer, api: dict[str, str]
) -> None:
    with live_server.app.extensions["intake.db"].transaction() as session:
        start = outbox.last_position(session)
    first = submit(live_server, api, sheet("F-1", "P2"))
    submit(live_server, api, sheet("F-83", "P1", toulon=True))  # another service's
    second = submit(live_server, api, sheet("F-2", "P3"))
    client = signed_in_session(live_server, CIC)
    flux = f"{live_server.url}/console/flux?apres={start}"

    with client.get(flux, stream=True, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["X-Accel-Buffering"] == "no"
        event = next(sse_events(response))
    assert event["event"] == "incident"
    assert event["data"]["id"] == first["id"]
    assert event["data"]["type"] == "incident.submitted"
    assert event["data"]["priority"] == "P2"
    assert event["data"]["open"] is True

    # The browser reconnects with the last id it saw: only what came after, not the Toulon one.
    with client.get(
        flux, headers={"Last-Event-ID": event["id"]}, stream=True, timeout=5
    ) as response:
        resumed = next(sse_events(response))
    assert int(resumed["id"]) > int(event["id"])
    assert resumed["data"]["id"] == second["id"]
    assert resumed["data"]["place"] == "Jeanne d'Arc"


def test_odd_inputs_never_answer_500(live_server: LiveServer, api: dict[str, str]) -> None:
    new = submit(live_server, api, sheet("O-P1", "P1"))
    client = signed_in_session(live_server, CIC)
    # A NUL cannot reach a query (PostgreSQL refuses it): the page says which field.
    refused = client.get(f"{live_server.url}/console/?nature=%00", timeout=10)
    assert refused.status_code == 400
    assert "« query.nature »" in refused.text
    for path in (
        "/console/?priorite=P9&statut=perdu&ligne=" + "x" * 500 + "&nature=vol",
        "/console/clotures?jour=hier",
        f"/console/incidents/{new['id']}?maj=%3Cscript%3E",
    ):
        response = client.get(f"{live_server.url}{path}", timeout=10)
        assert response.status_code == 200, path
    with client.get(
        f"{live_server.url}/console/flux?apres=-1' or 1=1",
        headers={"Last-Event-ID": "9" * 40},
        stream=True,
        timeout=5,
    ) as response:
        assert response.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get(live_server.url).text)
    assert csrf is not None
    action = f"{live_server.url}/console/incidents/{new['id']}/action"
    for form, status, text in (
        ({"action": "exploser"}, 422, "Action inconnue."),
        ({"action": "closed", "outcome": "arrest", "comment": "Trop tôt"}, 409, "Action refusée"),
        ({"action": "acknowledged"}, 302, ""),
        ({"action": "closed", "outcome": "???"}, 422, "Choisissez une issue de la liste."),
        ({"action": "rejected", "cause": "x" * 5000}, 422, "500 caractères au plus"),
        ({"action": "rejected", "cause": "Hors zone", "redirect_to": "NOPE!"}, 422, "invalide"),
        ({"action": "rejected", "cause": "Hors zone", "redirect_to": "ddsp-99"}, 422, "inconnu"),
        ({"action": "acknowledged"}, 409, "Action refusée"),
    ):
        response = client.post(
            action, data={"csrf_token": csrf.group(1), **form}, allow_redirects=False, timeout=10
        )
        assert response.status_code == status, (form, response.status_code)
        assert text in response.text, form
