"""The sheet as a web form, in a real browser: fill, get a French error, fix, submit, receipt."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import requests
from playwright.sync_api import expect

from intake_service.access.tokens import create_token
from intake_service.demo import GTFS_FEEDS
from intake_service.territory.gtfs_feed import read_feed
from intake_service.web.sheet_form_labels import field_anchor
from tests.e2e.conftest import LiveServer, screenshot

AGENT = "agent@tisseo.test"


def field(page: Any, path: str) -> Any:
    """The input of the sheet field at ``path`` (labels may repeat: « Nom », « Nombre »)."""
    return page.locator("#" + field_anchor(path))


def _fill_sheet(page: Any) -> None:
    """A realistic sheet: a driver threatened on board bus 14, suspect fled, video on board."""
    field(page, "reported_by.role").select_option("driver")
    field(page, "reported_by.name").fill("Karim B.")
    field(page, "state").select_option("in_progress")
    page.get_by_label("Outrage ou menace à agent (crachat compris)").check()
    page.get_by_label("Violence sur voyageur").check()
    page.get_by_label("Nature principale").select_option("threat_or_insult_staff")
    page.get_by_label("Récit").fill(
        "Un voyageur sans titre a menacé le conducteur puis bousculé une passagère "
        "avant de descendre à Jeanne d'Arc."
    )
    field(page, "location.place").select_option("on_board")
    field(page, "location.route_id").select_option("demo:14")
    expect(page.get_by_label("Mode de transport")).to_have_value("3")
    # The stop, found by typing the start of its name.
    stop = field(page, "location.stop_id")
    stop.press_sequentially("Jeanne", delay=20)
    options = page.locator("#arrets-trouves option")
    expect(options.first).to_be_attached()
    stop_id = options.evaluate_all("(os) => os.map((o) => o.value)")
    assert "demo:SP_jeanne-darc_14" in stop_id
    stop.fill("demo:SP_jeanne-darc_14")
    expect(page.locator("#champ-location-stop-id-nom")).to_have_text("Arrêt choisi : Jeanne d'Arc")
    field(page, "location.vehicle_id").fill("1207")
    page.get_by_label("Position dans le véhicule").select_option("front")
    page.get_by_label("Latitude").fill("43.60935")
    page.get_by_label("Longitude").fill("1.44650")
    field(page, "location.coordinates.source").select_option("manual")
    page.get_by_label("Nombre de blessés").fill("1")
    field(page, "injuries.severity").select_option("minor")
    page.locator("#champ-emergency-services-called-non").check()
    field(page, "suspects.count").fill("1")
    field(page, "suspects.status").select_option("fled")
    field(page, "suspects.flight_direction").fill("À pied vers la place Jeanne d'Arc")
    field(page, "suspects.weapon").select_option("none")
    field(page, "suspects.description").fill("Homme, veste rouge, casquette noire, sac à dos gris")
    victim = page.locator("#champ-victims-0")
    victim.get_by_label("Type de victime").select_option("staff")
    field(page, "victims.0.injury").select_option("none")
    victim.get_by_label("Fonction").select_option("driver")
    victim.locator("#champ-victims-0-on-duty-oui").check()
    victim.get_by_label("Souhaite porter plainte").select_option("undecided")
    page.locator("#champ-video-exists-yes").check()
    page.get_by_label("Caméras embarquées").check()
    page.get_by_label("Date d'effacement des images").fill("2030-01-01T00:00")


def test_submit_a_sheet_with_an_error_corrected_on_the_page(
    signed_in: Callable[[str], Any], live_server: LiveServer
) -> None:
    page = signed_in(AGENT)
    page.goto(f"{live_server.url}/fiche/nouvelle")
    expect(page.get_by_role("heading", name="Nouvelle fiche incident")).to_be_visible()
    reference = page.get_by_label("Référence opérateur").input_value()
    assert re.fullmatch(r"TISSEO-\d{8}-\d{6}", reference)
    _fill_sheet(page)
    # The deliberate mistake: an incident in progress without a number to call back.
    page.get_by_label("Téléphone de rappel").fill("")
    page.get_by_role("button", name="Envoyer la fiche").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("1 erreur à corriger")
    expect(summary).to_contain_text(
        "Téléphone de rappel : Obligatoire quand l'incident est en cours."
    )
    phone = page.get_by_label("Téléphone de rappel")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#champ-reported-by-callback-phone-erreur")).to_have_text(
        "Erreur : Obligatoire quand l'incident est en cours."
    )
    assert "champ-reported-by-callback-phone-erreur" in (
        phone.get_attribute("aria-describedby") or ""
    )
    # Nothing typed is lost.
    expect(page.get_by_label("Référence opérateur")).to_have_value(reference)
    expect(page.get_by_label("Récit")).to_contain_text("menacé le conducteur")
    expect(page.get_by_label("Violence sur voyageur")).to_be_checked()
    expect(field(page, "location.route_id")).to_have_value("demo:14")
    expect(field(page, "location.stop_id")).to_have_value("demo:SP_jeanne-darc_14")
    expect(field(page, "location.vehicle_id")).to_have_value("1207")
    expect(field(page, "suspects.flight_direction")).to_have_value(
        "À pied vers la place Jeanne d'Arc"
    )
    expect(page.locator("#champ-victims-0").get_by_label("Fonction")).to_have_value("driver")
    expect(page.locator("#champ-video-exists-yes")).to_be_checked()
    # The summary's link leads to the field.
    summary.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"#champ-reported-by-callback-phone$"))

    phone.fill("06 12 34 56 78")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "sheet-form", readme=True)
    page.get_by_role("button", name="Envoyer la fiche").click()

    expect(page.get_by_role("heading", name="Fiche reçue")).to_be_visible()
    expect(page.locator("#priorite")).to_contain_text("P1")
    expect(page.locator("#priorite")).to_contain_text("immédiat")
    expect(page.locator("#statut")).to_have_text("reçue")
    expect(page.get_by_text("DIPN 31 — CSP Toulouse")).to_be_visible()
    expect(page.get_by_role("button", name="Imprimer")).to_be_visible()
    incident_id = page.locator("#numero-incident").inner_text()
    screenshot(page, "sheet-receipt")

    # The same incident, through the API, as that operator.
    db = live_server.app.extensions["intake.db"]
    with db.transaction() as session:
        token = create_token(
            session, "operator", "tisseo", "e2e sheet form", now=dt.datetime.now(dt.UTC)
        )
    secret = token.secret
    response = requests.get(
        f"{live_server.url}/api/v1/incidents/{incident_id}",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["operator_reference"] == reference
    assert body["priority"] == "P1"
    assert body["sheet"]["reported_by"]["callback_phone"] == "+33612345678"
    assert body["sheet"]["location"]["vehicle_id"] == "1207"
    assert body["sheet"]["victims"][0]["staff_function"] == "driver"

    # The same reference again is refused on its field, in French.
    page.goto(f"{live_server.url}/fiche/nouvelle")
    _fill_sheet(page)
    page.get_by_label("Référence opérateur").fill(reference)
    page.get_by_label("Téléphone de rappel").fill("0612345678")
    page.get_by_role("button", name="Envoyer la fiche").click()
    expect(page.locator("#champ-operator-reference-erreur")).to_contain_text(
        "déjà été envoyée avec cette référence"
    )

    # Another operator does not see the receipt.
    other = signed_in("agent@mistral.test")
    response_other = other.goto(f"{live_server.url}/fiche/{incident_id}/recu")
    assert response_other is not None
    assert response_other.status == 404


def test_conditional_parts_appear_only_when_they_apply(
    signed_in: Callable[[str], Any], live_server: LiveServer
) -> None:
    page = signed_in(AGENT)
    page.goto(f"{live_server.url}/fiche/nouvelle")
    vehicle = field(page, "location.vehicle_id")
    flight = field(page, "suspects.flight_direction")
    expect(vehicle).to_be_hidden()
    expect(flight).to_be_hidden()
    field(page, "location.place").select_option("on_board")
    expect(vehicle).to_be_visible()
    field(page, "location.place").select_option("platform")
    expect(vehicle).to_be_hidden()
    field(page, "suspects.status").select_option("fled")
    expect(flight).to_be_visible()
    field(page, "suspects.status").select_option("on_site")
    expect(flight).to_be_hidden()
    # Staff-only parts of a victim, and victims added and removed.
    victim = page.locator("#champ-victims-0")
    expect(victim.get_by_label("Fonction")).to_be_hidden()
    victim.get_by_label("Type de victime").select_option("staff")
    expect(victim.get_by_label("Fonction")).to_be_visible()
    expect(field(page, "victims.0.contact.phone")).to_be_visible()
    victim.get_by_label("Type de victime").select_option("passenger")
    expect(field(page, "victims.0.contact.phone")).to_be_hidden()
    blocks = page.locator("[data-victime]:not(template [data-victime])")
    expect(blocks).to_have_count(2)
    page.get_by_role("button", name="Ajouter une victime").click()
    expect(blocks).to_have_count(3)
    expect(page.locator("#champ-victims-2-kind")).to_be_focused()
    page.locator("#champ-victims-0").get_by_role("button", name="Retirer cette victime").click()
    expect(blocks).to_have_count(2)
    expect(page.locator("#champ-victims-1-kind")).to_have_attribute("name", "victims.1.kind")
    # Video details only when there is video.
    erase = page.get_by_label("Date d'effacement des images")
    expect(erase).to_be_hidden()
    page.locator("#champ-video-exists-yes").check()
    expect(erase).to_be_visible()


def test_stop_search_is_scoped_to_the_operator(
    signed_in: Callable[[str], Any], live_server: LiveServer
) -> None:
    page = signed_in(AGENT)
    found = page.request.get(f"{live_server.url}/fiche/arrets?q=capi").json()
    assert {"stop_id": "demo:SA_capitole", "name": "Capitole"} in found
    tisseo = {stop.stop_id for stop in read_feed(dict(GTFS_FEEDS)["tisseo"]).stops}
    assert {stop["stop_id"] for stop in found} <= tisseo
    other = signed_in("agent@mistral.test")
    assert other.request.get(f"{live_server.url}/fiche/arrets?q=capi").json() == []


def test_a_sheet_post_without_csrf_token_is_refused(
    signed_in: Callable[[str], Any], live_server: LiveServer
) -> None:
    page = signed_in(AGENT)
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert "intake_session" in cookies
    response = requests.post(
        f"{live_server.url}/fiche/nouvelle",
        data={"operator_reference": "TISSEO-CSRF", "channel": "web_form"},
        cookies=cookies,
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400
    assert "formulaire a expiré" in response.text
