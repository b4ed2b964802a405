"""GPO problems over the API, on SQLite and PostgreSQL: create, edit (versions), move
through the lifecycle, plan actions (and a partner marks its own done), keep the journal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.access.tokens import create_token
from intake_service.gpo.rules import scope as gpo_scope
from intake_service.models import AuditEntry, ProblemJournalEntry, ProblemLink, ProblemScopeKey
from intake_service.platform.db import Database
from intake_service.territory.operators import add_operator
from tests.access_seeds.gpo import SCOPE, VAR_REFERENT, make_gpos, make_problem
from tests.conftest import Clock
from tests.factories import a_sheet

PROBLEM = "application/problem+json"
Headers = dict[str, str]


@pytest.fixture
def client(app: Any) -> FlaskClient:
    test_client: FlaskClient = app.test_client()
    return test_client


@pytest.fixture
def callers(db: Database, clock: Clock) -> dict[str, Headers]:
    """GPOs gpo-toulouse and gpo-var; a token per caller."""
    headers = {}
    with db.transaction() as session:
        add_operator(session, "tisseo", "Tisséo", now=clock.now)
        make_gpos(session, clock.now)
        for name, role, scope in (
            ("referent", "gpo_referent", "gpo-toulouse"),
            ("var", "gpo_referent", "gpo-var"),
            ("pm", "gpo_partner", "gpo-toulouse:pm-toulouse"),
            ("smtc", "gpo_partner", "gpo-toulouse:smtc"),
            ("operator", "operator", "tisseo"),
        ):
            made = create_token(session, role, scope, f"test {name}", now=clock.now)
            headers[name] = {"Authorization": f"Bearer {made.secret}"}
    return headers


def errors_of(response: Any) -> dict[str, str]:
    assert response.mimetype == PROBLEM, response.data
    return {error["field"]: error["message"] for error in response.get_json().get("errors", [])}


def create(client: FlaskClient, callers: dict[str, Headers], **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/gpos/gpo-toulouse/problems",
        json={"title": "Jets de pierres ligne 14", "scope": SCOPE, "partners": ["pm-toulouse"]}
        | body,
        headers=callers["referent"],
    )
    assert response.status_code == 201, response.get_json()
    document: dict[str, Any] = response.get_json()
    return document


def move(
    client: FlaskClient,
    callers: dict[str, Headers],
    problem_id: str,
    to: str,
    reason: str | None = None,
) -> Any:
    body = {"to": to} | ({"reason": reason} if reason is not None else {})
    return client.post(
        f"/api/v1/problems/{problem_id}/transitions", json=body, headers=callers["referent"]
    )


def test_create_read_list_and_scope_index(
    client: FlaskClient, callers: dict[str, Headers], db: Database
) -> None:
    created = client.post(
        "/api/v1/gpos/gpo-toulouse/problems",
        json={"title": "Jets de pierres ligne 14", "scope": SCOPE, "partners": ["pm-toulouse"]},
        headers=callers["referent"],
    )
    assert created.status_code == 201
    problem = created.get_json()
    assert created.headers["Location"] == f"/api/v1/problems/{problem['id']}"
    assert created.headers["ETag"] == '"1"'
    assert (problem["state"], problem["version"], problem["scope"]) == ("reported", 1, SCOPE)
    assert problem["allowed_transitions"] == ["qualified", "abandoned", "out_of_scope"]

    read = client.get(f"/api/v1/problems/{problem['id']}", headers=callers["pm"])
    assert read.status_code == 200
    assert read.get_json()["title"] == "Jets de pierres ligne 14"
    listed = client.get("/api/v1/gpos/gpo-toulouse/problems", headers=callers["pm"])
    assert [item["id"] for item in listed.get_json()["items"]] == [problem["id"]]
    assert client.get(
        "/api/v1/gpos/gpo-toulouse/problems?state=analysis", headers=callers["referent"]
    ).get_json() == {"items": []}
    gpo = client.get("/api/v1/gpos/gpo-toulouse", headers=callers["pm"]).get_json()
    assert [partner["code"] for partner in gpo["partners"]] == ["pm-toulouse", "smtc", "tisseo"]

    with db.transaction() as session:
        keys = set(
            session.scalars(
                select(ProblemScopeKey.key).where(ProblemScopeKey.problem_id == problem["id"])
            )
        )
        actions = set(session.scalars(select(AuditEntry.action)))
    # The scope's place keys, each combined with its nature (see gpo_scope.scope_keys).
    assert keys == gpo_scope.scope_keys(problem["scope"])
    assert "stop:tisseo:stop_area:SA_jeanne-darc+nature:projectile" in keys
    assert "problem.create" in actions


def test_errors_are_named_per_field(client: FlaskClient, callers: dict[str, Headers]) -> None:
    response = client.post(
        "/api/v1/gpos/gpo-toulouse/problems",
        json={
            "title": "",
            "scope": {
                "natures": ["stones"],
                "weekdays": [8],
                "hours": {"from": 25, "to": 2},
                "point": {"lat": 43.6, "lon": 1.44, "radius_m": 10},
                "bus": True,
            },
        },
        headers=callers["referent"],
    )
    assert response.status_code == 422
    assert set(errors_of(response)) == {
        "title",
        "scope.natures.0",
        "scope.weekdays.0",
        "scope.hours.from",
        "scope.point.radius_m",
        "scope.bus",
    }
    unknown_partner = client.post(
        "/api/v1/gpos/gpo-toulouse/problems",
        json={"title": "x", "partners": ["pm-toulon"]},
        headers=callers["referent"],
    )
    assert unknown_partner.status_code == 422
    assert "not a partner" in errors_of(unknown_partner)["partners"]


def test_scope_access_foreign_gpo_and_partner(
    client: FlaskClient, callers: dict[str, Headers], db: Database, clock: Clock
) -> None:
    problem = create(client, callers)
    with db.transaction() as session:
        var_problem = make_problem(session, clock.now, VAR_REFERENT)
    url = f"/api/v1/problems/{problem['id']}"
    # Another GPO's referent: as if it did not exist.
    assert client.get(url, headers=callers["var"]).status_code == 404
    assert client.patch(url, json={"title": "x"}, headers=callers["var"]).status_code == 404
    assert (
        client.get(f"/api/v1/problems/{var_problem}", headers=callers["referent"]).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/gpos/gpo-var/problems", json={"title": "x"}, headers=callers["referent"]
        ).status_code
        == 404
    )
    assert client.get("/api/v1/gpos/gpo-var/problems", headers=callers["pm"]).status_code == 404
    # A partner reads, never changes.
    assert client.patch(url, json={"title": "x"}, headers=callers["pm"]).status_code == 403
    assert (
        client.post(
            url + "/transitions", json={"to": "qualified"}, headers=callers["pm"]
        ).status_code
        == 403
    )
    assert (
        client.post(
            url + "/journal", json={"kind": "note", "text": "x"}, headers=callers["pm"]
        ).status_code
        == 403
    )
    assert (
        client.post(
            url + "/actions",
            json={"what": "x", "owner_partner": "pm-toulouse"},
            headers=callers["pm"],
        ).status_code
        == 403
    )
    assert client.get(url, headers=callers["operator"]).status_code == 403
    assert client.get(url).status_code == 401


def test_patch_with_versions(
    client: FlaskClient, callers: dict[str, Headers], db: Database
) -> None:
    problem = create(client, callers)
    url = f"/api/v1/problems/{problem['id']}"
    first = client.patch(
        url,
        json={"description": "Le soir, vers Jeanne d'Arc.", "version": 1},
        headers=callers["referent"],
    )
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["version"], first.headers["ETag"]) == (2, '"2"')
    # A second referent still on version 1: refused, nothing changes (a stale If-Match
    # is a failed precondition, 412; a stale body version a conflict, 409).
    stale = client.patch(
        url, json={"title": "Autre titre"}, headers={**callers["referent"], "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.get_json()["current_version"] == 2
    assert "If-Match" in errors_of(stale)
    weak = client.patch(
        url, json={"title": "Autre titre"}, headers={**callers["referent"], "If-Match": 'W/"2"'}
    )
    assert weak.status_code == 412  # the strong comparison: a weak tag never matches
    stale_body = client.patch(
        url, json={"title": "Autre titre", "version": 1}, headers=callers["referent"]
    )
    assert stale_body.status_code == 409
    assert "version" in errors_of(stale_body)
    assert client.get(url, headers=callers["referent"]).get_json()["title"] == problem["title"]
    # With the current ETag it goes through; the scope is replaced whole and reindexed.
    fresh = client.patch(
        url,
        json={
            "title": "Autre titre",
            "scope": {"point": {"lat": 43.6, "lon": 1.44, "radius_m": 300}},
        },
        headers={**callers["referent"], "If-Match": '"2"'},
    )
    assert fresh.status_code == 200
    assert fresh.get_json()["scope"] == {"point": {"lat": 43.6, "lon": 1.44, "radius_m": 300}}
    bad = client.patch(url, json={"title": "x"}, headers={**callers["referent"], "If-Match": "abc"})
    assert bad.status_code == 400
    assert "If-Match" in errors_of(bad)
    with db.transaction() as session:
        keys = set(
            session.scalars(
                select(ProblemScopeKey.key).where(ProblemScopeKey.problem_id == problem["id"])
            )
        )
        changes = session.scalars(
            select(ProblemJournalEntry.text)
            .where(ProblemJournalEntry.kind == "change")
            .order_by(ProblemJournalEntry.id)
        ).all()
    assert keys
    assert all(key.startswith("cell:") for key in keys)
    assert changes == ["Modifié : description", "Modifié : titre, périmètre"]


def test_lifecycle_reasons_not_resolved_and_watch(
    client: FlaskClient, callers: dict[str, Headers], db: Database, clock: Clock
) -> None:
    problem = create(client, callers)
    pid = problem["id"]
    skipped = move(client, callers, pid, "analysis")
    assert skipped.status_code == 409
    assert "to" in errors_of(skipped)
    for state in ("qualified", "analysis", "action_plan", "in_progress", "assessment"):
        assert move(client, callers, pid, state).status_code == 200
    no_reason = move(client, callers, pid, "not_resolved")
    assert no_reason.status_code == 422
    assert "reason" in errors_of(no_reason)
    back = move(client, callers, pid, "not_resolved", "Pas de baisse des faits")
    assert back.status_code == 200
    assert (back.get_json()["state"], back.get_json()["state_reason"]) == (
        "analysis",
        "Pas de baisse des faits",
    )
    for state in ("action_plan", "in_progress", "assessment", "resolved"):
        assert move(client, callers, pid, state).status_code == 200
    closed = move(client, callers, pid, "closed")
    assert closed.status_code == 200
    watched = closed.get_json()
    assert watched["state"] == watched["effective_state"] == "watch"
    assert dt.datetime.fromisoformat(watched["watch_until"]) == dt.datetime(
        2026, 6, 14, 17, 30, tzinfo=dt.UTC
    )
    with db.transaction() as session:
        steps = [
            (entry.detail.get("from"), entry.detail.get("to"), entry.text)
            for entry in session.scalars(
                select(ProblemJournalEntry)
                .where(ProblemJournalEntry.kind == "state_change")
                .order_by(ProblemJournalEntry.id)
            )
        ]
        watch_keys = session.scalars(
            select(ProblemScopeKey).where(ProblemScopeKey.problem_id == pid)
        ).all()
    assert ("assessment", "not_resolved", "Pas de baisse des faits") in steps
    assert ("not_resolved", "analysis", "Pas de baisse des faits") in steps
    assert steps[-2:] == [("resolved", "closed", ""), ("closed", "watch", "")]
    assert watch_keys, "a watched problem stays indexed: an incident in scope reopens it"
    # After three months it counts as closed.
    clock.advance(days=93)
    later = client.get(f"/api/v1/problems/{pid}", headers=callers["referent"]).get_json()
    assert (later["state"], later["effective_state"]) == ("watch", "closed")

    other = create(client, callers)
    abandoned = move(client, callers, other["id"], "abandoned")
    assert abandoned.status_code == 422
    done = move(client, callers, other["id"], "abandoned", "Traité par la mairie")
    assert done.get_json()["state"] == "abandoned"
    assert done.get_json()["allowed_transitions"] == []
    with db.transaction() as session:
        assert not session.scalars(
            select(ProblemScopeKey).where(ProblemScopeKey.problem_id == other["id"])
        ).all()


def test_actions_and_partner_completion(
    client: FlaskClient, callers: dict[str, Headers], db: Database
) -> None:
    problem = create(client, callers)
    url = f"/api/v1/problems/{problem['id']}/actions"
    foreign = client.post(
        url, json={"what": "x", "owner_partner": "pm-toulon"}, headers=callers["referent"]
    )
    assert foreign.status_code == 422
    assert "owner_partner" in errors_of(foreign)
    patrols = client.post(
        url,
        json={
            "what": "Patrouilles le soir",
            "owner_partner": "pm-toulouse",
            "starts_on": "2026-03-16",
            "due_on": "2026-04-30",
            "service_order_reference": "OS-2026-114",
        },
        headers=callers["referent"],
    )
    assert patrols.status_code == 201, patrols.get_json()
    cctv = client.post(
        url,
        json={"what": "Caméras", "owner_partner": "smtc", "due_on": "2026-03-20"},
        headers=callers["referent"],
    ).get_json()
    patrol = patrols.get_json()
    listed = client.get(url, headers=callers["pm"]).get_json()["items"]
    assert [item["id"] for item in listed] == [cctv["id"], patrol["id"]]

    changed = client.patch(
        f"{url}/{cctv['id']}", json={"status": "in_progress"}, headers=callers["referent"]
    )
    assert changed.get_json()["status"] == "in_progress"
    late = client.patch(
        f"{url}/{cctv['id']}",
        json={"due_on": "2026-01-01", "starts_on": "2026-02-01"},
        headers=callers["referent"],
    )
    assert late.status_code == 422
    assert "due_on" in errors_of(late)
    assert (
        client.patch(
            f"{url}/{cctv['id']}", json={"status": "done"}, headers=callers["pm"]
        ).status_code
        == 403
    )

    # The municipal police marks its own action done, not the transport authority's.
    assert client.post(f"{url}/{cctv['id']}/done", headers=callers["pm"]).status_code == 403
    done = client.post(f"{url}/{patrol['id']}/done", headers=callers["pm"])
    assert done.status_code == 200
    assert done.get_json()["status"] == "done"
    assert client.post(f"{url}/{cctv['id']}/done", headers=callers["smtc"]).status_code == 200
    assert client.post(f"{url}/999999/done", headers=callers["pm"]).status_code == 404
    assert client.post(f"{url}/{2**70}/done", headers=callers["referent"]).status_code == 404
    assert client.post(f"{url}/{patrol['id']}/done", headers=callers["var"]).status_code == 404
    with db.transaction() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"problem.action.add", "problem.action.update", "problem.action.done"} <= actions


def test_journal_partners_read_meetings_and_decisions(
    client: FlaskClient, callers: dict[str, Headers], db: Database
) -> None:
    problem = create(client, callers)
    url = f"/api/v1/problems/{problem['id']}/journal"
    for kind, text in (
        ("meeting", "Réunion du GPO : point sur la ligne 14."),
        ("decision", "Patrouilles renforcées le vendredi soir."),
        ("note", "Le chauffeur M. Dupont a reconnu un auteur."),
    ):
        written = client.post(url, json={"kind": kind, "text": text}, headers=callers["referent"])
        assert written.status_code == 201
        assert written.get_json()["kind"] == kind
    assert errors_of(
        client.post(url, json={"kind": "state_change", "text": "x"}, headers=callers["referent"])
    ).keys() == {"kind"}

    referent = [
        entry["kind"] for entry in client.get(url, headers=callers["referent"]).get_json()["items"]
    ]
    partner = client.get(url, headers=callers["pm"]).get_json()["items"]
    assert set(referent) == {"meeting", "decision", "note", "state_change"}
    assert {entry["kind"] for entry in partner} == {"meeting", "decision"}
    assert "Dupont" not in str(partner)
    with db.transaction() as session:
        reads = session.scalars(
            select(AuditEntry.role).where(AuditEntry.action == "problem.journal.read")
        ).all()
    assert reads == ["gpo_referent"]


def test_detail_page_shows_confirmed_incidents_and_hides_notes_from_partners(
    app: Any, client: FlaskClient, callers: dict[str, Headers], db: Database, clock: Clock
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    problem = create(client, callers)
    with db.transaction() as session:
        operator = create_token(session, "operator", "tisseo", "test op", now=clock.now)
        for email, role, scope in (
            ("referent@gpo.test", "gpo_referent", "gpo-toulouse"),
            ("pm@gpo.test", "gpo_partner", "gpo-toulouse:pm-toulouse"),
        ):
            add_user(session, email, "mot-de-passe-de-test", role, scope, now=clock.now)
    submitted = client.post(
        "/api/v1/incidents",
        json=a_sheet("GPO-PAGE-1"),
        headers={"Authorization": f"Bearer {operator.secret}"},
    )
    assert submitted.status_code == 201, submitted.get_json()
    incident_id = submitted.get_json()["id"]
    with db.transaction() as session:
        session.add(
            ProblemLink(
                problem_id=problem["id"],
                incident_id=incident_id,
                state="confirmed",
                origin="manual",
                reasons=[],
                strong=False,
                created_at=clock.now,
                decided_at=clock.now,
                decided_by="test",
            )
        )
    client.post(
        f"/api/v1/problems/{problem['id']}/journal",
        json={"kind": "note", "text": "Note interne du référent"},
        headers=callers["referent"],
    )
    pages: dict[str, str] = {}
    for email in ("referent@gpo.test", "pm@gpo.test"):
        browser = app.test_client()
        signed = browser.post(
            "/connexion", data={"email": email, "password": "mot-de-passe-de-test"}
        )
        assert signed.status_code == 302
        page = browser.get(f"/gpo/problemes/{problem['id']}")
        assert page.status_code == 200
        pages[email] = page.get_data(as_text=True)
    for html in pages.values():
        assert incident_id[:8] in html
        assert "Agression physique d&#39;agent" in html or "Agression physique d'agent" in html
    assert "Note interne du référent" in pages["referent@gpo.test"]
    assert "Note interne du référent" not in pages["pm@gpo.test"]
    assert 'id="etat"' not in pages["pm@gpo.test"]


def test_the_assessment_endpoint_keeps_its_name(app: Any) -> None:
    # The view class was renamed (ProblemAssessment); url_for callers still use the
    # endpoint name it had before.
    with app.test_request_context():
        path = url_for("gpo_assessment.Assessment", problem_id="p-1")
    assert path == "/api/v1/problems/p-1/assessment"
