"""The directory in a real browser: an operator reads its CIC's referents, then keeps its
own entity (mailbox, notices, digest) through the form, with errors in French."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from intake_service.access.tokens import create_token
from intake_service.models import DirectoryEntity
from tests.directory_data import REFERENT, add_entity, toulouse_sheet
from tests.e2e.conftest import LiveServer, screenshot


@pytest.fixture(scope="module")
def directory(live_server: LiveServer) -> None:
    """A tisseo incident routed to ddsp-31; the entities of ddsp-31 and tisseo."""
    app = live_server.app
    db = app.extensions["intake.db"]
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        token = create_token(session, "operator", "tisseo", "e2e directory", now=now).secret
    sheet = toulouse_sheet(
        "ANNUAIRE-1",
        occurred_at=(now - dt.timedelta(minutes=5)).isoformat(),
        video={"exists": "no"},
    )
    # The demo GTFS feed is loaded here: the line and stop must be its own.
    sheet["location"].update(route_id="demo:A", stop_id="demo:SA_capitole")
    response = app.test_client().post(
        "/api/v1/incidents", json=sheet, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.get_json().get("errors")
    add_entity(
        db, "police_service", "ddsp-31", now, referents=[dict(REFERENT, phone="+33561127777")]
    )
    add_entity(db, "operator", "tisseo", now, mailbox="ancienne@tisseo.example.org")


def test_an_operator_reads_its_cic_and_keeps_its_own_entity(
    directory: None, signed_in: Callable[[str], Any], live_server: LiveServer
) -> None:
    page = signed_in("agent@tisseo.test")
    page.get_by_role("navigation").get_by_role("link", name="Annuaire", exact=True).click()
    expect(page.get_by_role("heading", name="Annuaire de la ligne directe")).to_be_visible()
    cic = page.locator("#entite-police_service-ddsp-31")
    expect(cic).to_contain_text(REFERENT["name"])
    expect(cic.get_by_role("link", name="+33561127777")).to_have_attribute(
        "href", "tel:+33561127777"
    )
    expect(cic.get_by_role("link", name=REFERENT["email"])).to_have_attribute(
        "href", f"mailto:{REFERENT['email']}"
    )
    expect(cic.get_by_role("link", name="Modifier")).to_have_count(0)  # not its entity
    screenshot(page, "directory-list")

    page.locator("#entite-operator-tisseo").get_by_role("link", name="Modifier").click()
    page.get_by_label("Boîte fonctionnelle").fill("pas une adresse")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#erreur-mailbox")).to_have_text("Adresse électronique invalide.")

    page.get_by_label("Boîte fonctionnelle").fill("pc-surete@tisseo.example.org")
    page.get_by_label("Fiche rejetée par le centre de commandement").uncheck()
    page.get_by_label("Un récapitulatif par jour plutôt qu'un courriel par avis").check()
    page.locator("#referent-0-nom").fill("Julie Martin")
    page.locator("#referent-0-telephone").fill("05 61 00 10 01")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Annuaire enregistré.")
    expect(page.locator("#entite-operator-tisseo")).to_contain_text("pc-surete@tisseo.example.org")
    expect(page.locator("#entite-operator-tisseo")).to_contain_text("Julie Martin")

    with live_server.app.extensions["intake.db"].reading() as session:
        entity = session.scalars(
            select(DirectoryEntity).where(
                DirectoryEntity.kind == "operator", DirectoryEntity.code == "tisseo"
            )
        ).one()
        assert entity.mailbox == "pc-surete@tisseo.example.org"
        assert "rejection" not in entity.notices
        assert "urgent_incident" in entity.notices
        assert entity.digest is True
        assert entity.version == 2
        assert [r.phone for r in entity.referents] == ["+33561001001"]

    # Another entity's form: the CIC is seen, not kept (403); another operator's is not seen.
    assert page.goto(f"{live_server.url}/annuaire/police_service/ddsp-31/modifier").status == 403
    assert page.goto(f"{live_server.url}/annuaire/operator/mistral/modifier").status == 404
