"""Proposals in a real browser: the referent sees the incident the linker proposed for a
problem, with its reasons and without its narrative or names, confirms it, and the
link is confirmed; a second proposal is rejected with a reason. Three tags at the
same station make an emerging problem, opened in one step."""

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
from intake_service.models import AuditEntry, ProblemLink
from tests.access_seeds.gpo import REFERENT as REFERENT_PRINCIPAL
from tests.access_seeds.gpo import make_gpos, make_problem
from tests.e2e.conftest import PASSWORD, LiveServer, screenshot
from tests.factories import a_sheet

REFERENT = "referent-liens@gpo.test"
STOP = "demo:SP_jeanne-darc_14"  # a platform of the Jeanne d'Arc station


def submit(
    live_server: LiveServer,
    token: str,
    reference: str,
    nature: str = "projectile",
    stop: str = STOP,
) -> str:
    """A sheet at the platform, an hour ago, and the linker applied to it."""
    sheet = a_sheet(reference, natures=[nature], primary_nature=nature)
    sheet["state"] = "over"
    sheet["occurred_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    sheet["video"] = {"exists": "no"}
    sheet["location"].update(
        {
            "route_id": "demo:14",
            "stop_id": stop,
            "coordinates": {"lat": 43.60938, "lon": 1.44649, "accuracy_m": 10, "source": "gps"},
        }
    )
    client = live_server.app.test_client()
    response = client.post(
        "/api/v1/incidents", json=sheet, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.get_json()
    incident_id: str = response.get_json()["id"]
    db = live_server.app.extensions["intake.db"]
    with db.transaction() as session:
        linker.relink_incident(session, incident_id)
    return incident_id


@pytest.fixture(scope="module")
def proposals(live_server: LiveServer) -> dict[str, str]:
    db = live_server.app.extensions["intake.db"]
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        make_gpos(session, now)
        add_user(session, REFERENT, PASSWORD, "gpo_referent", "gpo-toulouse", now=now)
        problem_id = make_problem(
            session,
            now,
            REFERENT_PRINCIPAL,
            title="Jets de pierres à Jeanne d'Arc",
            scope={
                "stops": [{"operator": "tisseo", "stop_id": "demo:SA_jeanne-darc"}],
                "natures": ["projectile"],
            },
        )
        token = create_token(session, "operator", "tisseo", "e2e links", now=now).secret
    for number in range(3):  # tags at Jeanne d'Arc: no problem covers them
        submit(live_server, token, f"E2E-TAGS-{number}", "vandalism", "demo:SP_jeanne-darc_B")
    return {
        "problem_id": problem_id,
        "first": submit(live_server, token, "E2E-LINK-1"),
        "second": submit(live_server, token, "E2E-LINK-2"),
    }


def link_state(live_server: LiveServer, problem_id: str, incident_id: str) -> str | None:
    db = live_server.app.extensions["intake.db"]
    with db.reading() as session:
        return session.scalar(
            select(ProblemLink.state).where(
                ProblemLink.problem_id == problem_id, ProblemLink.incident_id == incident_id
            )
        )


def test_referent_confirms_a_proposal(
    signed_in: Callable[[str], Any], live_server: LiveServer, proposals: dict[str, str]
) -> None:
    problem_id = proposals["problem_id"]
    assert link_state(live_server, problem_id, proposals["first"]) == "proposed"
    page = signed_in(REFERENT)
    page.goto(f"{live_server.url}/gpo/gpo-toulouse/propositions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Propositions de rattachement")
    row = page.locator(f"tr[data-incident='{proposals['first']}']")
    expect(row).to_contain_text("Jets de pierres à Jeanne d'Arc")
    expect(row).to_contain_text("même arrêt (Jeanne d'Arc)")
    expect(row).to_contain_text("même nature (jet de projectile)")
    expect(row).to_contain_text("Correspondance forte")
    # The queue shows no narrative and no names.
    expect(page.locator("main")).not_to_contain_text("Agent Fictif")
    expect(page.locator("main")).not_to_contain_text("frappé par un voyageur")
    screenshot(page, "gpo-proposals")

    row.get_by_role("button", name="Confirmer").click()
    expect(page.get_by_role("status").first).to_contain_text("Lien confirmé")
    expect(page.locator(f"tr[data-incident='{proposals['first']}']")).to_have_count(0)
    assert link_state(live_server, problem_id, proposals["first"]) == "confirmed"

    second = page.locator(f"tr[data-incident='{proposals['second']}']")
    second.get_by_label("Motif du rejet (facultatif)").fill("Caillassage d'un autre bus")
    second.get_by_role("button", name="Rejeter").click()
    expect(page.get_by_role("status").first).to_contain_text("Proposition rejetée")
    expect(page.locator("#aucune-proposition")).to_be_visible()
    assert link_state(live_server, problem_id, proposals["second"]) == "rejected"


def test_referent_opens_a_problem_from_an_emerging_cluster(
    signed_in: Callable[[str], Any], live_server: LiveServer, proposals: dict[str, str]
) -> None:
    page = signed_in(REFERENT)
    page.goto(f"{live_server.url}/gpo/gpo-toulouse/emergents")
    cluster = page.locator("section.emergent")
    expect(cluster).to_have_count(1)
    expect(cluster.get_by_role("heading")).to_have_text("Atteintes aux biens : Jeanne d'Arc")
    expect(cluster).to_contain_text("3 incidents")
    screenshot(page, "gpo-emerging")
    cluster.get_by_role("button", name="Ouvrir un problème").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Atteintes aux biens : Jeanne d'Arc")
    page.goto(f"{live_server.url}/gpo/gpo-toulouse/emergents")
    expect(page.locator("#aucun-emergent")).to_be_visible()


def test_the_incident_detail_shows_its_narrative_and_the_read_is_audited(
    signed_in: Callable[[str], Any], live_server: LiveServer, proposals: dict[str, str]
) -> None:
    page = signed_in(REFERENT)
    page.goto(f"{live_server.url}/gpo/gpo-toulouse/incidents/{proposals['first']}")
    expect(page.locator("#recit")).to_contain_text("frappé par un voyageur")
    expect(page.locator("#faits")).to_contain_text("Jeanne d'Arc")
    expect(page.locator("#rattachements")).to_contain_text("Jets de pierres à Jeanne d'Arc")
    db = live_server.app.extensions["intake.db"]
    with db.reading() as session:
        reads = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "incident.read",
                AuditEntry.resource_id == proposals["first"],
            )
        ).all()
    assert [(entry.role, entry.detail) for entry in reads] == [
        ("gpo_referent", {"via": "gpo", "gpo": "gpo-toulouse"})
    ]
