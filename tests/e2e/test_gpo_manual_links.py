"""Links by hand in a real browser: the referent opens, from the proposals queue, an
incident the linker proposed for one problem, links it to another problem of the GPO
from the incident's page, finds it on that problem, then unlinks it there: the row
goes, the journal says both, the incident's page offers the problem again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.access.tokens import create_token
from intake_service.gpo import linker
from intake_service.gpo.links import link
from intake_service.models import AuditEntry, ProblemJournalEntry, ProblemLink
from tests.access_seeds.gpo import REFERENT as REFERENT_PRINCIPAL
from tests.access_seeds.gpo import make_gpos, make_problem
from tests.e2e.conftest import PASSWORD, LiveServer, screenshot
from tests.factories import a_sheet

REFERENT = "referent-manuel@gpo.test"
PROPOSED_FOR = "Jets de pierres à Jeanne d'Arc"
LINKED_TO = "Caillassages des bus de la ligne 14"


@pytest.fixture(scope="module")
def scenario(live_server: LiveServer) -> dict[str, str]:
    """Two problems of gpo-toulouse; a projectile at Jeanne d'Arc, proposed for the first."""
    db = live_server.app.extensions["intake.db"]
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        make_gpos(session, now)
        add_user(session, REFERENT, PASSWORD, "gpo_referent", "gpo-toulouse", now=now)
        proposed_for = make_problem(
            session,
            now,
            REFERENT_PRINCIPAL,
            title=PROPOSED_FOR,
            scope={
                "stops": [{"operator": "tisseo", "stop_id": "demo:SA_jeanne-darc"}],
                "natures": ["projectile"],
            },
        )
        # Its scope (thefts) does not match the incident: only a person links it here.
        linked_to = make_problem(
            session,
            now,
            REFERENT_PRINCIPAL,
            title=LINKED_TO,
            scope={"routes": [{"operator": "tisseo", "route_id": "demo:14"}], "natures": ["theft"]},
        )
        token = create_token(session, "operator", "tisseo", "e2e manual links", now=now).secret
    sheet = a_sheet("E2E-MANUEL-1", natures=["projectile"], primary_nature="projectile")
    sheet["state"] = "over"
    sheet["occurred_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    sheet["video"] = {"exists": "no"}
    sheet["location"].update(
        {
            "route_id": "demo:14",
            "stop_id": "demo:SP_jeanne-darc_14",
            "coordinates": {"lat": 43.60938, "lon": 1.44649, "accuracy_m": 10, "source": "gps"},
        }
    )
    response = live_server.app.test_client().post(
        "/api/v1/incidents", json=sheet, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.get_json()
    incident_id: str = response.get_json()["id"]
    with db.transaction() as session:
        linker.relink_incident(session, incident_id)
    return {"proposed_for": proposed_for, "linked_to": linked_to, "incident": incident_id}


def links(live_server: LiveServer, incident_id: str) -> dict[str, tuple[str, str]]:
    """The incident's links: problem id → (state, origin)."""
    db = live_server.app.extensions["intake.db"]
    with db.reading() as session:
        return {
            link.problem_id: (link.state, link.origin)
            for link in session.scalars(
                select(ProblemLink).where(ProblemLink.incident_id == incident_id)
            )
        }


def test_referent_links_an_incident_by_hand_then_unlinks_it(
    signed_in: Callable[[str], Any], live_server: LiveServer, scenario: dict[str, str]
) -> None:
    incident_id, linked_to = scenario["incident"], scenario["linked_to"]
    assert links(live_server, incident_id) == {scenario["proposed_for"]: ("proposed", "matcher")}
    page = signed_in(REFERENT)

    # From the queue to the incident's page: no link to the second problem yet.
    page.goto(f"{live_server.url}/gpo/gpo-toulouse/propositions")
    page.locator(f"tr[data-incident='{incident_id}'] a time").click()
    expect(page.locator("#rattachements")).to_contain_text(f"{PROPOSED_FOR} — proposé")
    expect(page.locator("#rattachements")).not_to_contain_text(LINKED_TO)
    form = page.locator("#rattacher")
    # Submitting without a choice is stopped by the browser (the field is required).
    form.get_by_role("button", name="Rattacher").click()
    expect(page).to_have_url(f"{live_server.url}/gpo/gpo-toulouse/incidents/{incident_id}")
    # Forged posts: a value that is no problem id is sent back to the choice; an id of
    # no problem of the GPO is absent. Neither links anything.
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    link_url = f"{live_server.url}/gpo/gpo-toulouse/incidents/{incident_id}/rattacher"
    for value, status in (("00000000-0000-4000-8000-000000000000", 404), ("<script>", 303)):
        forged = page.request.post(
            link_url, form={"csrf_token": csrf, "probleme": value}, max_redirects=0
        )
        assert forged.status == status, value
    assert forged.headers["location"].endswith(f"/incidents/{incident_id}#rattacher")
    page.reload()
    expect(page.get_by_role("status").first).to_contain_text("Choisissez le problème")
    assert links(live_server, incident_id) == {scenario["proposed_for"]: ("proposed", "matcher")}
    form.get_by_label("Rattacher à un problème").select_option(label=LINKED_TO)
    screenshot(page, "gpo-manual-link")
    form.get_by_role("button", name="Rattacher").click()

    # On the problem: the incident is there, and the journal says it was linked by hand.
    expect(page.get_by_role("heading", level=1)).to_have_text(LINKED_TO)
    expect(page.get_by_role("status").first).to_contain_text("Incident rattaché au problème")
    row = page.locator(f"#incidents tr[data-incident='{incident_id}']")
    expect(row).to_contain_text(incident_id[:8])
    expect(row).to_contain_text("Jet de projectile")
    expect(row).to_contain_text("Jeanne d'Arc")
    expect(page.locator("#journal")).to_contain_text("Incident lié à la main.")
    assert links(live_server, incident_id) == {
        scenario["proposed_for"]: ("proposed", "matcher"),  # left to the referent's queue
        linked_to: ("confirmed", "manual"),
    }

    # Unlinking asks for no reason (the use case records none): the row goes, journalled.
    row.get_by_role("button", name=f"Délier l'incident {incident_id[:8]}").click()
    expect(page.get_by_role("status").first).to_contain_text("Incident délié du problème")
    expect(page.locator(f"#incidents tr[data-incident='{incident_id}']")).to_have_count(0)
    expect(page.locator("#incidents")).to_contain_text("Aucun incident confirmé")
    journal = page.locator("#journal ol.journal li")
    expect(journal.first).to_contain_text("Incident délié.")
    expect(journal.nth(1)).to_contain_text("Incident lié à la main.")
    screenshot(page, "gpo-manual-unlink")
    assert links(live_server, incident_id)[linked_to] == ("unlinked", "manual")

    # The incident's page tells the link's end and offers the problem again.
    page.goto(f"{live_server.url}/gpo/gpo-toulouse/incidents/{incident_id}")
    expect(page.locator("#rattachements")).to_contain_text(f"{LINKED_TO} — détaché")
    expect(page.locator("#rattacher option", has_text=LINKED_TO)).to_have_count(1)

    db = live_server.app.extensions["intake.db"]
    with db.reading() as session:
        decisions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.resource_id == linked_to, AuditEntry.action.like("problem_link.%"))
            .order_by(AuditEntry.id)
        ).all()
        journalled = session.scalars(
            select(ProblemJournalEntry.detail)
            .where(ProblemJournalEntry.problem_id == linked_to, ProblemJournalEntry.kind == "link")
            .order_by(ProblemJournalEntry.id)
        ).all()
    assert decisions == ["problem_link.confirmed", "problem_link.unlinked"]
    assert [(entry["incident_id"], entry["state"]) for entry in journalled] == [
        (incident_id, "confirmed"),
        (incident_id, "unlinked"),
    ]


def test_a_partner_sees_no_link_controls_and_a_forged_link_is_refused(
    signed_in: Callable[[str], Any], live_server: LiveServer, scenario: dict[str, str]
) -> None:
    db = live_server.app.extensions["intake.db"]
    with db.transaction() as session:
        add_user(
            session,
            "pm-manuel@gpo.test",
            PASSWORD,
            "gpo_partner",
            "gpo-toulouse:pm-toulouse",
            now=dt.datetime.now(dt.UTC),
        )
        link(
            session,
            REFERENT_PRINCIPAL,
            scenario["linked_to"],
            scenario["incident"],
            dt.datetime.now(dt.UTC),
        )
    page = signed_in("pm-manuel@gpo.test")
    page.goto(f"{live_server.url}/gpo/problemes/{scenario['linked_to']}")
    row = page.locator(f"#incidents tr[data-incident='{scenario['incident']}']")
    expect(row).to_be_visible()
    expect(row.get_by_role("button")).to_have_count(0)
    expect(row.get_by_role("link")).to_have_count(0)  # the incident's page is the referent's
    # Posting the referent's form anyway (with the page's own CSRF token) is refused.
    refused = page.request.post(
        f"{live_server.url}/gpo/problemes/{scenario['linked_to']}"
        f"/liens/{scenario['incident']}/delier",
        form={"csrf_token": page.locator("input[name=csrf_token]").first.input_value()},
        max_redirects=0,
    )
    assert refused.status == 403
    assert links(live_server, scenario["incident"])[scenario["linked_to"]] == (
        "confirmed",
        "manual",
    )
