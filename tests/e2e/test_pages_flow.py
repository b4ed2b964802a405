"""The three pages together, as issue 4 asks: a sheet typed in the form (with an error
corrected on the page) appears on a console open in another browser within a second,
is acknowledged there, and the operator's follow-up shows the new status live."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_sheet_form import _fill_sheet, field


def test_form_to_console_to_follow_up_live(
    signed_in: Callable[[str], Any], live_server: LiveServer
) -> None:
    console = signed_in("cic@ddsp31.test")
    expect(console.locator("#etat-connexion")).to_have_text("connecté")
    console.evaluate("window.pasRecharge = true")

    operator = signed_in("agent@tisseo.test")
    follow_up = operator.context.new_page()
    follow_up.goto(f"{live_server.url}/operateur/incidents")
    expect(follow_up.locator("#etat-connexion")).to_have_attribute("data-etat", "connecte")
    follow_up.evaluate("window.pasRecharge = true")

    operator.goto(f"{live_server.url}/fiche/nouvelle")
    _fill_sheet(operator)
    field(operator, "reported_by.callback_phone").fill("")
    operator.get_by_role("button", name=re.compile("Envoyer")).click()
    expect(field(operator, "reported_by.callback_phone")).to_have_attribute("aria-invalid", "true")
    field(operator, "reported_by.callback_phone").fill("06 12 34 56 78")
    operator.get_by_role("button", name=re.compile("Envoyer")).click()
    expect(operator).to_have_url(re.compile(r"/fiche/[0-9a-f-]{36}/recu$"))
    incident_id = re.search(r"/fiche/([0-9a-f-]{36})/recu", operator.url).group(1)  # type: ignore[union-attr]
    submitted = time.monotonic()

    row = console.locator(f"#incident-{incident_id}")
    expect(row).to_be_visible(timeout=1_000)
    assert time.monotonic() - submitted < 1.0
    assert console.evaluate("window.pasRecharge") is True  # live, no reload
    expect(row.locator(".priorite")).to_have_text("P1")

    own_row = follow_up.locator(f"#incident-{incident_id}")
    expect(own_row).to_be_visible(timeout=2_000)

    row.get_by_role("link").first.click()
    console.get_by_role("button", name="Prendre en compte").click()
    expect(console.get_by_role("status").first).to_be_visible()

    expect(own_row).to_contain_text("prise en compte", ignore_case=True, timeout=2_000)
    assert follow_up.evaluate("window.pasRecharge") is True
