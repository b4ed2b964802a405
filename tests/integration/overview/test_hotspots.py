"""The hotspots over the API and the pages, on SQLite and PostgreSQL: incidents by line ×
hour of the week and by stop, counted against plain Python over the scenario; the open
problems marked (scope's line, scope's station of a stop; a watch run out is no longer
open); the referent's GPO only, the ministry every incident; 404 out of scope."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake_service.platform.clock import PARIS
from intake_service.platform.db import Database
from tests.appointment_data import page_client
from tests.conftest import Clock
from tests.factories import create_tokens
from tests.integration.overview import overview_seed as scenario
from tests.integration.overview.overview_seed import FIRST, LAST, Seeded
from tests.integration.overview.test_national_view import PERSONAL, covered, in_period

PERIOD = f"from={FIRST.isoformat()}&to={LAST.isoformat()}"
OPERATOR = {"operator": "tisseo", "other_operator": "mistral"}


@pytest.fixture
def setup(app: Any, db: Database, clock: Clock) -> tuple[FlaskClient, dict[str, Any], Seeded]:
    tokens = create_tokens(db, clock.now)
    return app.test_client(), tokens, scenario.seed(app, db, clock, tokens)


def expected(keys: set[str]) -> tuple[dict[tuple[str, str], list[list[int]]], Counter[Any]]:
    lines: dict[tuple[str, str], list[list[int]]] = {}
    stops: Counter[Any] = Counter()
    for spec in scenario.INCIDENTS:
        if spec.key not in keys:
            continue
        local = spec.occurred.astimezone(PARIS)
        week = lines.setdefault((OPERATOR[spec.operator], spec.route), [[0] * 24 for _ in range(7)])
        week[local.weekday()][local.hour] += 1
        if spec.stop:
            stops[(OPERATOR[spec.operator], spec.stop)] += 1
    return lines, stops


def all_keys() -> set[str]:
    return {s.key for s in scenario.INCIDENTS if in_period(s.occurred) and not s.withdrawn}


def check(body: dict[str, Any], keys: set[str]) -> None:
    lines, stops = expected(keys)
    assert body["count"] == len(keys)
    assert body["without_stop"] == sum(
        1 for s in scenario.INCIDENTS if s.key in keys and not s.stop
    )
    assert {(line["operator"], line["route_id"]): line["hours"] for line in body["lines"]} == lines
    assert [line["count"] for line in body["lines"]] == sorted(
        (sum(map(sum, week)) for week in lines.values()), reverse=True
    )
    assert {(s["operator"], s["stop_id"]): s["count"] for s in body["stops"]} == dict(stops)


def test_referent_sees_its_gpo_incidents(setup: Any) -> None:
    client, tokens, _ = setup
    response = client.get(f"/api/v1/hotspots?{PERIOD}", headers=tokens["gpo_referent"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["gpo"] == "gpo-toulouse"
    check(body, covered("gpo-toulouse"))
    lines = {line["route_id"]: line for line in body["lines"]}
    assert lines["line:14"]["name"] == "14"
    assert lines["line:14"]["count"] == 3
    # Line 14: in the scope of a problem in progress; line 2: of one whose watch ran out.
    assert (lines["line:14"]["open_problem"], lines["line:2"]["open_problem"]) == (True, False)
    stops = {stop["stop_id"]: stop for stop in body["stops"]}
    # Stop B: its station is in a reported problem's scope.
    assert stops["stop_point:SP_B"]["open_problem"] is True
    assert stops["stop_point:SP_A"]["open_problem"] is False
    assert (stops["stop_point:SP_A"]["name"], stops["stop_point:SP_A"]["lat"]) == (
        "Jeanne d'Arc",
        43.611,
    )
    # Friday 10 October 2025 20:00 and Wednesday 5 November 22:10, Paris time.
    assert lines["line:14"]["hours"][4][20] == 1
    assert lines["line:14"]["hours"][2][22] == 1
    for other in ("gpo-marseille", "gpo-inconnu"):
        refused = client.get(f"/api/v1/hotspots?gpo={other}", headers=tokens["gpo_referent"])
        assert refused.status_code == 404, other
        assert refused.mimetype == "application/problem+json"


def test_national_sees_every_incident_or_one_gpo(setup: Any) -> None:
    client, tokens, seeded = setup
    response = client.get(f"/api/v1/hotspots?{PERIOD}", headers=tokens["national"])
    body = response.get_json()
    assert body["gpo"] is None
    check(body, all_keys())
    assert "line:U" in {line["route_id"] for line in body["lines"]}  # Toulon: in no GPO
    one = client.get(f"/api/v1/hotspots?{PERIOD}&gpo=gpo-marseille", headers=tokens["national"])
    check(one.get_json(), covered("gpo-marseille"))
    assert (
        client.get("/api/v1/hotspots?gpo=gpo-nulle", headers=tokens["national"]).status_code == 404
    )
    text = response.get_data(as_text=True)
    assert not [value for value in PERSONAL if value in text]
    assert not [i for i in seeded.incident_ids.values() if i in text]
    for role in ("gpo_partner", "departement", "operator", "command_centre", "admin"):
        assert client.get("/api/v1/hotspots", headers=tokens[role]).status_code == 403, role


def test_hotspot_pages(app: Any, db: Database, clock: Clock, setup: Any) -> None:
    referent = page_client(app, db, clock.now, "gpo_referent", "gpo-toulouse")
    assert referent.get("/national/points-chauds").headers["Location"] == (
        "/gpo/gpo-toulouse/points-chauds"
    )
    page = referent.get(f"/gpo/gpo-toulouse/points-chauds?du={FIRST}&au={LAST}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-ligne="line:14"' in html
    assert 'data-arret="stop_point:SP_B"' in html
    assert 'data-lat="43.6045"' in html
    assert 'data-ouvert="oui"' in html
    assert "Vieux-Port" not in html  # Marseille's stop: another GPO
    assert referent.get("/gpo/gpo-marseille/points-chauds").status_code == 404
    ministry = page_client(app, db, clock.now, "national", "*")
    html = ministry.get(f"/national/points-chauds?du={FIRST}&au={LAST}").get_data(as_text=True)
    assert "Vieux-Port" in html
    assert not [value for value in PERSONAL if value in html]
    marseille = ministry.get(f"/national/points-chauds?du={FIRST}&au={LAST}&gpo=gpo-marseille")
    html = marseille.get_data(as_text=True)
    assert "Vieux-Port" in html
    assert "Jeanne d" not in html  # Toulouse's stop
    assert '<option value="gpo-marseille" selected>' in html
    unknown = ministry.get("/national/points-chauds?gpo=gpo-nulle").get_data(as_text=True)
    assert 'id="gpo-erreur"' in unknown
