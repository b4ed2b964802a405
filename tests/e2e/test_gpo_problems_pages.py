"""GPO problems in a real browser: a referent opens a problem with its scope through the
form (stops found as you type) and finds it in the list; a partner marks its own action
done and cannot touch the others'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from intake_service.access.accounts import add_user
from intake_service.gpo import actions
from intake_service.models import Problem
from tests.access_seeds.gpo import REFERENT as REFERENT_PRINCIPAL
from tests.access_seeds.gpo import make_gpos, make_problem
from tests.e2e.conftest import PASSWORD, LiveServer, screenshot

REFERENT = "referent@gpo.test"
PARTNER = "pm@gpo.test"


@pytest.fixture(scope="module", autouse=True)
def gpo_accounts(live_server: LiveServer) -> None:
    db = live_server.app.extensions["intake.db"]
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        make_gpos(session, now)
        add_user(session, REFERENT, PASSWORD, "gpo_referent", "gpo-toulouse", now=now)
        add_user(session, PARTNER, PASSWORD, "gpo_partner", "gpo-toulouse:pm-toulouse", now=now)


def test_referent_creates_a_problem_with_its_scope(
    signed_in: Callable[[str], Any], live_server: LiveServer
) -> None:
    page = signed_in(REFERENT)
    page.get_by_role("link", name="Problèmes du GPO").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Problèmes")
    page.get_by_role("link", name="Nouveau problème").click()

    page.get_by_label("Titre").fill("Jets de pierres sur la ligne 14 le soir")
    page.get_by_label("Description").fill("Bus caillassés aux abords de Jeanne d'Arc.")
    page.get_by_label("Police municipale de Toulouse").check()
    page.get_by_label("Lignes").select_option(label="14 — Jeanne d'Arc / Arènes (démo) (tisseo)")
    # The stop search: type part of a name, then pick the stop the list offers.
    search = page.get_by_label("Arrêts")
    search.fill("Jeanne")
    # (The page's CSP forbids evaluated script: wait through the DOM, not a function.)
    expect(page.locator("#arrets-trouves option").first).to_be_attached()
    search.fill("tisseo|demo:SA_jeanne-darc")
    chosen = page.locator("#arrets-choisis input[name=stops]")
    expect(chosen).to_have_count(1)
    expect(page.locator("#arrets-choisis")).to_contain_text("Jeanne d'Arc")
    expect(search).to_have_value("")
    page.get_by_label("Jet de projectile").check()
    page.get_by_label("Vendredi").check()
    page.get_by_label("Samedi").check()
    page.get_by_label("De", exact=True).select_option("18")
    page.get_by_label("À (exclue)").select_option("2")
    screenshot(page, "gpo-problem-form")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Jets de pierres sur la ligne 14 le soir"
    )
    expect(page.locator("#etat-courant")).to_have_text("Signalé")
    summary = page.locator("dl.grille")
    expect(summary).to_contain_text("Jeanne d'Arc")
    expect(summary).to_contain_text("14 — Jeanne d'Arc / Arènes")
    expect(summary).to_contain_text("Jet de projectile")
    expect(summary).to_contain_text("Vendredi, Samedi")
    expect(summary).to_contain_text("de 18 h à 2 h")

    page.get_by_role("link", name="← Problèmes du GPO").click()
    section = page.locator("section[data-etat=reported]")
    expect(
        section.get_by_role("link", name="Jets de pierres sur la ligne 14 le soir")
    ).to_be_visible()

    db = live_server.app.extensions["intake.db"]
    with db.transaction() as session:
        stored = (
            session.query(Problem).filter_by(title="Jets de pierres sur la ligne 14 le soir").one()
        )
        assert stored.scope == {
            "routes": [{"operator": "tisseo", "route_id": "demo:14"}],
            "stops": [{"operator": "tisseo", "stop_id": "demo:SA_jeanne-darc"}],
            "natures": ["projectile"],
            "weekdays": [4, 5],
            "hours": {"from": 18, "to": 2},
        }
        assert stored.partners == ["pm-toulouse"]


def test_form_errors_are_shown_next_to_their_field(
    signed_in: Callable[[str], Any], live_server: LiveServer
) -> None:
    page = signed_in(REFERENT)
    page.goto(f"{live_server.url}/gpo/gpo-toulouse/problemes/nouveau")
    page.get_by_label("Titre").fill("Vols à Capitole")
    page.get_by_label("Latitude").fill("1,44")
    page.get_by_label("Longitude").fill("43,6")
    page.get_by_label("Rayon (m)").fill("10")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#erreurs")).to_be_visible()
    expect(page.locator("#erreur-point-lat")).to_contain_text("pas en France")
    expect(page.locator("#erreur-point-radius_m")).to_contain_text("50 à 5 000 m")
    expect(page.get_by_label("Titre")).to_have_value("Vols à Capitole")


def test_partner_marks_its_own_action_done(
    signed_in: Callable[[str], Any], live_server: LiveServer
) -> None:
    db = live_server.app.extensions["intake.db"]
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        problem_id = make_problem(session, now, title="Vols à l'arraché à Capitole")
        own = actions.add_action(
            session,
            REFERENT_PRINCIPAL,
            problem_id,
            {"what": "Patrouilles de la police municipale", "owner_partner": "pm-toulouse"},
            now,
        )
        other = actions.add_action(
            session,
            REFERENT_PRINCIPAL,
            problem_id,
            {"what": "Caméras en station", "owner_partner": "smtc"},
            now,
        )
        own_id, other_id = own.id, other.id

    page = signed_in(PARTNER)
    page.get_by_role("link", name="Problèmes du GPO").click()
    page.get_by_role("link", name="Vols à l'arraché à Capitole").click()
    # Read-only for a partner: no edit link, no state change, no forms but its own button.
    expect(page.get_by_role("link", name="Modifier le problème")).to_have_count(0)
    expect(page.locator("#etat")).to_have_count(0)
    expect(page.locator("#ajout-action")).to_have_count(0)
    expect(page.locator("#ajout-journal")).to_have_count(0)
    own_row = page.locator(f"tr[data-action='{own_id}']")
    other_row = page.locator(f"tr[data-action='{other_id}']")
    expect(other_row.get_by_role("button", name="Marquer réalisée")).to_have_count(0)
    own_row.get_by_role("button", name="Marquer réalisée").click()
    expect(page.get_by_text("Action marquée comme réalisée.")).to_be_visible()
    expect(page.locator(f"tr[data-action='{own_id}'] .statut-action")).to_have_text("Réalisée")
    expect(page.locator(f"tr[data-action='{other_id}'] .statut-action")).to_have_text("Prévue")
    screenshot(page, "gpo-problem-partner")

    # Posting for the other organisation's action anyway is refused.
    refused = page.request.post(
        f"{live_server.url}/gpo/problemes/{problem_id}/actions/{other_id}/realisee",
        form={"csrf_token": page.locator("input[name=csrf_token]").first.input_value()},
        max_redirects=0,
    )
    assert refused.status == 403
