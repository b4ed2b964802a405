"""The direct line in two real browsers at once: the command centre's console and the
operator's follow-up talk inside a P1, live, each keeping its own notes to itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from intake_service.access.tokens import create_token
from tests.e2e.conftest import LiveServer, screenshot, submit_now

CIC_NOTE = "Note du CIC : individu déjà connu, ne pas le dire à l'exploitant"
OPERATOR_NOTE = "Note du PC sûreté : caméra 12 en panne depuis lundi"
QUESTION = "Direction de fuite ?"
ANSWER = "Partis à pied vers la place du Capitole"
DIRECTION = "Place du Capitole, rue du Taur"


@pytest.fixture(scope="module")
def tokens(live_server: LiveServer) -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    with live_server.app.extensions["intake.db"].transaction() as session:
        return {
            "tisseo": create_token(session, "operator", "tisseo", "SAE Tisséo", now=now).secret,
            "ddsp-31": create_token(session, "command_centre", "ddsp-31", "CIC", now=now).secret,
        }


def _p1(live_server: LiveServer, tokens: dict[str, str], reference: str) -> dict[str, Any]:
    body = submit_now(live_server, tokens["tisseo"], reference)
    assert body["priority"] == "P1"
    return body


def _connected(page: Any) -> None:
    expect(page.locator("#etat-connexion")).to_have_attribute("data-etat", "connecte")


def _write(page: Any, kind: str, text: str) -> None:
    form = page.locator("#nouveau-message")
    form.get_by_label(kind).check()
    form.get_by_label("Texte").fill(text)
    form.get_by_role("button", name="Envoyer").click()
    page.wait_for_load_state("networkidle")


def test_the_cic_asks_the_operator_answers_and_amends_live_notes_stay_home(
    signed_in: Callable[[str], Any], live_server: LiveServer, tokens: dict[str, str]
) -> None:
    incident = _p1(live_server, tokens, "LIGNE-DIRECTE-001")
    console = signed_in("cic@ddsp31.test")
    console.goto(f"{live_server.url}/console/incidents/{incident['id']}")
    _connected(console)
    operator = signed_in("agent@tisseo.test")
    operator.goto(f"{live_server.url}/operateur/incidents/{incident['id']}")
    _connected(operator)
    expect(operator.locator("#demandes-ouvertes")).to_have_text(
        "Aucune demande d'information ouverte."
    )

    # Each side keeps a note of its own.
    _write(console, "Note interne", CIC_NOTE)
    expect(console.locator("#fil")).to_contain_text(CIC_NOTE)
    _write(operator, "Note interne", OPERATOR_NOTE)
    expect(operator.locator("#fil")).to_contain_text(OPERATOR_NOTE)
    _connected(operator)
    _connected(console)

    # The CIC asks; the operator's page shows it live (the same page, not reloaded).
    operator.evaluate("window.sameDocument = true")
    _write(console, "Demande d'information", QUESTION)
    request = console.locator("#fil li.message.rfi")
    expect(request).to_contain_text(QUESTION)
    expect(request).to_contain_text("Réponse attendue avant")
    asked = operator.locator("#fil li.message.rfi")
    expect(asked).to_contain_text(QUESTION)
    expect(operator.locator("#demandes-ouvertes")).to_contain_text(
        "1 demande d'information ouverte"
    )
    assert operator.evaluate("window.sameDocument") is True

    # The operator answers and completes the sheet in the same form.
    console.evaluate("window.sameDocument = true")
    answer = asked.locator("form.reponse")
    answer.get_by_label("Votre réponse").fill(ANSWER)
    answer.get_by_label("Direction de fuite des auteurs").fill(DIRECTION)
    answer.get_by_role("button", name="Répondre à la demande").click()
    operator.wait_for_load_state("networkidle")
    expect(operator.locator(".succes")).to_have_text(
        "Réponse envoyée ; la fiche est complétée (nouvelle version)."
    )
    expect(operator.get_by_role("region", name="La fiche (version 2)")).to_contain_text(
        f"Direction de fuite : {DIRECTION}"
    )
    expect(operator.locator("#fil")).to_contain_text(ANSWER)
    expect(operator.locator("#fil li.message.rfi .demande-close")).to_be_visible()

    # The console shows the answer and the amendment live, the request closed.
    expect(console.locator("#fil")).to_contain_text(ANSWER)
    expect(console.locator("[data-chemin='suspects']")).to_contain_text(DIRECTION)
    expect(console.locator("[data-chemin='suspects'] .etiquette-modifie")).to_be_visible()
    expect(console.locator("#fil li.message.rfi .demande-close")).to_be_visible()
    expect(console.locator("#demandes-ouvertes")).to_have_text(
        "Aucune demande d'information ouverte."
    )
    expect(console.locator("#fil")).to_contain_text("La fiche a été complétée avec cette réponse")
    screenshot(console, "direct-line-console")
    screenshot(operator, "direct-line-follow-up")

    # Neither page shows the other's notes, live or read again.
    for page, foreign, own in (
        (console, OPERATOR_NOTE, CIC_NOTE),
        (operator, CIC_NOTE, OPERATOR_NOTE),
    ):
        page.reload()
        page.wait_for_load_state("networkidle")
        expect(page.locator("#fil")).to_contain_text(own)
        assert foreign not in page.content()

    # The API says the same: the request answered, the sheet amended.
    listed = requests.get(
        f"{live_server.url}/api/v1/incidents/{incident['id']}/messages",
        headers={"Authorization": f"Bearer {tokens['tisseo']}"},
        timeout=10,
    ).json()
    assert listed["open_requests"] == 0
    [rfi] = [m for m in listed["messages"] if m["kind"] == "rfi"]
    [reply] = [m for m in listed["messages"] if m["answers"] == rfi["id"]]
    assert rfi["answered_by"] == reply["id"]
    assert reply["amended_version"] == 2
    assert all(m["text"] != CIC_NOTE for m in listed["messages"])
