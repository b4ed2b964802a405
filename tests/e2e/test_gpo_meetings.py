"""A GPO meeting in Chromium, from plan to minutes: the referent plans it, the agenda is
generated from the brief and sent, the partners' attendance and the decisions are
recorded (an action created, the problem moved), a present partner gives its view,
the minutes PDF downloaded by a partner and read back with pypdf holds none of the
personal data planted in the incidents and the minutes; then the next meeting is
proposed from the rhythm."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from intake_service.access.accounts import add_user
from intake_service.gpo.rules.meetings import step
from intake_service.platform.clock import PARIS
from tests.access_seeds.gpo_assessment import (
    PERSONAL,
    REPORTER_NAME,
    TITLE,
    VICTIM_NAME,
    VICTIM_PHONE,
    Scenario,
    build_scenario,
)
from tests.e2e.conftest import PASSWORD, LiveServer, axe_violations, screenshot

REFERENT = "referent@reunions.test"
PARTNER = "pm@reunions.test"
ABSENT_PARTNER = "tisseo@reunions.test"


@pytest.fixture(scope="module")
def scenario(live_server: LiveServer) -> Scenario:
    now = dt.datetime.now(dt.UTC)
    made = build_scenario(live_server.app, now)
    with live_server.app.extensions["intake.db"].transaction() as session:
        add_user(session, REFERENT, PASSWORD, "gpo_referent", "gpo-toulouse", now=now)
        add_user(session, PARTNER, PASSWORD, "gpo_partner", "gpo-toulouse:pm-toulouse", now=now)
        add_user(session, ABSENT_PARTNER, PASSWORD, "gpo_partner", "gpo-toulouse:tisseo", now=now)
    return made


def test_a_meeting_from_plan_to_minutes(
    live_server: LiveServer, scenario: Scenario, signed_in: Callable[[str], Any]
) -> None:
    referent = signed_in(REFERENT)
    referent.goto(f"{live_server.url}/gpo/gpo-toulouse/problemes")
    referent.get_by_role("link", name="Réunions", exact=True).click()
    referent.get_by_role("link", name="Planifier une réunion").click()
    # Nothing held yet: no date proposed.
    assert "Aucune réunion tenue" in referent.locator("#proposition").inner_text()
    tomorrow = (dt.datetime.now(PARIS) + dt.timedelta(days=1)).date()
    referent.get_by_label("Date et heure").fill(f"{tomorrow.isoformat()}T14:30")
    referent.get_by_label("Lieu").fill("Commissariat central, salle Capitole")
    referent.get_by_role("button", name="Planifier la réunion").click()
    referent.wait_for_load_state("networkidle")

    # The agenda, generated from the brief: new incidents, late and due actions.
    agenda = referent.locator("#ordre-du-jour ul.ordre-du-jour")
    items = agenda.locator("li")
    assert items.count() >= 3
    text = agenda.inner_text()
    assert TITLE in text
    assert "2 nouveaux incidents depuis la dernière réunion" in text
    assert "Action en retard : Patrouilles renforcées le soir" in text
    assert "Action à échéance : Intervention au collège voisin" in text
    assert [value for value in PERSONAL if value in text] == []
    referent.get_by_role("button", name="Envoyer l'ordre du jour aux partenaires").click()
    referent.wait_for_load_state("networkidle")
    assert "Ordre du jour envoyé à 2 partenaire(s)" in referent.locator("main").inner_text()
    meeting_url = referent.url.split("#")[0]

    # Held: pm-toulouse present, tisseo absent; the minutes name people (masked for partners).
    hold = referent.locator("#formulaire-tenue")
    hold.get_by_label("Police municipale de Toulouse").check()
    hold.get_by_label("Compte rendu").fill(
        f"Point sur l'agression de {VICTIM_NAME} ({VICTIM_PHONE}), signalée par "
        f"{REPORTER_NAME}. Les patrouilles du soir continuent."
    )
    hold.get_by_role("button", name="Enregistrer la réunion tenue").click()
    referent.wait_for_load_state("networkidle")
    assert referent.locator("#statut-reunion").get_attribute("data-statut") == "held"
    presence = referent.locator("#table-participants")
    assert presence.locator("tr[data-partenaire='pm-toulouse'] .presence").inner_text() == "Présent"
    assert presence.locator("tr[data-partenaire='tisseo'] .presence").inner_text() == "Absent"

    # Decisions: an action created, then the problem moved to its action plan.
    decision = referent.locator("#formulaire-decision")
    decision.get_by_label("Décision", exact=True).select_option("action_created")
    decision.get_by_label("Problème").select_option(label=TITLE)
    decision.get_by_label("Action à créer").fill("Médiation au collège Jean-Jaurès")
    decision.get_by_label("Partenaire", exact=True).select_option("tisseo")
    decision.get_by_role("button", name="Enregistrer la décision").click()
    referent.wait_for_load_state("networkidle")
    decision = referent.locator("#formulaire-decision")
    decision.get_by_label("Décision", exact=True).select_option("state_changed")
    decision.get_by_label("Problème").select_option(label=TITLE)
    decision.get_by_label("Nouvel état").select_option("action_plan")
    decision.get_by_label("Texte (lu par les partenaires)").fill("Plan d'action validé.")
    decision.get_by_role("button", name="Enregistrer la décision").click()
    referent.wait_for_load_state("networkidle")
    decisions = referent.locator("#liste-decisions li")
    assert [d.get_attribute("data-genre") for d in decisions.all()] == [
        "action_created",
        "state_changed",
    ]
    assert "Médiation au collège Jean-Jaurès" in decisions.first.inner_text()
    assert axe_violations(referent) == []
    screenshot(referent, "gpo-meeting-held")

    # A bad decision is refused, its error under its field.
    decision = referent.locator("#formulaire-decision")
    decision.get_by_label("Décision", exact=True).select_option("state_changed")
    decision.get_by_role("button", name="Enregistrer la décision").click()
    referent.wait_for_load_state("networkidle")
    assert referent.locator("#erreur-decision-problem_id").inner_text() == "Obligatoire."
    assert referent.locator("#erreur-decision-to").inner_text() == "Obligatoire."
    assert axe_violations(referent) == []

    # The present partner gives its view; the absent one may not.
    partner = signed_in(PARTNER)
    partner.goto(meeting_url)
    assert TITLE in partner.locator("#ordre-du-jour").inner_text()
    view = partner.locator("#formulaire-avis")
    view.get_by_label("Problème").select_option(label=TITLE)
    view.get_by_label("Amélioré").check()
    view.get_by_label("Commentaire").fill("Moins de jets depuis les patrouilles.")
    view.get_by_role("button", name="Enregistrer l'avis").click()
    partner.wait_for_load_state("networkidle")
    assert "Amélioré" in partner.locator("#table-avis").inner_text()
    absent = signed_in(ABSENT_PARTNER)
    absent.goto(meeting_url)
    assert absent.locator("#formulaire-avis").count() == 0

    # The partner's minutes: the page and the PDF hold none of the planted personal data.
    partner.get_by_role("link", name="Compte rendu", exact=True).click()
    partner.wait_for_load_state("networkidle")
    assert partner.locator(".version").get_attribute("data-version") == "partner"
    page_text = partner.locator("main").inner_text()
    assert "Les patrouilles du soir continuent." in page_text
    assert axe_violations(partner) == []
    with partner.expect_download() as download_info:
        partner.get_by_role("link", name="Télécharger le PDF").click()
    pdf_bytes = Path(download_info.value.path()).read_bytes()
    pdf_text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf_bytes)).pages)
    assert "sans données personnelles" in pdf_text
    assert "Médiation au collège Jean-Jaurès" in pdf_text
    assert "Police municipale de Toulouse" in pdf_text
    assert "Capitole" in pdf_text  # the incidents at stop level
    outputs = {"page": page_text, "HTML": partner.content(), "PDF": pdf_text}
    leaks = [(where, value) for where, out in outputs.items() for value in PERSONAL if value in out]
    assert leaks == []

    # The referent's state change shows the partner's view.
    referent.goto(f"{live_server.url}/gpo/problemes/{scenario.problem_id}")
    views = referent.locator("#avis-partenaires")
    assert "Moins de jets depuis les patrouilles." in views.inner_text()
    assert "Amélioré" in views.inner_text()

    # The next meeting is proposed from the monthly rhythm: the same weekday of the month.
    referent.goto(f"{live_server.url}/gpo/gpo-toulouse/reunions/nouvelle")
    expected = step("monthly", tomorrow)
    assert expected is not None
    assert referent.get_by_label("Date et heure").input_value() == f"{expected.isoformat()}T14:30"
    assert referent.get_by_label("Lieu").input_value() == "Commissariat central, salle Capitole"
    assert "Prochaine réunion proposée" in referent.locator("#proposition").inner_text()
    assert axe_violations(referent) == []
    screenshot(referent, "gpo-meeting-next")
