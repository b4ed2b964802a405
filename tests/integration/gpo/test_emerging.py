"""Emerging problems: clusters of like incidents no open problem covers, and opening a
problem from one in a single step. Each test on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from intake_service.access.rules.permissions import Principal
from intake_service.gpo import gpos
from tests.factories import a_sheet, create_tokens

REFERENT = Principal(role="gpo_referent", scope="gpo-toulouse", actor="test referent")
EMERGING = "/api/v1/gpos/gpo-toulouse/emerging"


def sheet(reference: str, nature: str, **location: Any) -> dict[str, Any]:
    built = a_sheet(reference, natures=[nature], primary_nature=nature)
    built["location"].update(location)
    built["location"] = {k: v for k, v in built["location"].items() if v is not None}
    return built


NEAR_BY = {  # about 100 m north of the stop, no stop given
    "place": "surroundings",
    "stop_id": None,
    "route_id": None,
    "vehicle_id": None,
    "coordinates": {"lat": 43.58481, "lon": 1.44349, "accuracy_m": 10, "source": "gps"},
}
FAR = {  # about 2 km away
    "place": "surroundings",
    "stop_id": None,
    "route_id": None,
    "vehicle_id": None,
    "coordinates": {"lat": 43.60183, "lon": 1.44349, "accuracy_m": 10, "source": "gps"},
}


def setup(app: Any, clock: Any) -> tuple[Any, dict[str, dict[str, str]], dict[str, str]]:
    db = app.extensions["intake.db"]
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        gpos.add_gpo(
            session,
            "gpo-toulouse",
            "GPO Toulouse",
            services=[],
            operators=["tisseo"],
            auto_confirm_strong=False,
            now=clock.now,
        )
    client = app.test_client()
    ids = {}
    submitted = {
        "stop-1": sheet("EM-1", "projectile"),
        "stop-2": sheet("EM-2", "projectile"),
        "stop-3": sheet("EM-3", "projectile"),
        "near": sheet("EM-4", "projectile", **NEAR_BY),
        "far": sheet("EM-5", "projectile", **FAR),
        "vandal-1": sheet("EM-6", "vandalism"),
        "vandal-2": sheet("EM-7", "vandalism"),
    }
    for name, body in submitted.items():
        response = client.post("/api/v1/incidents", json=body, headers=headers["operator"])
        assert response.status_code == 201, response.get_json()
        ids[name] = response.get_json()["id"]
    return client, headers, ids


def test_a_cluster_of_like_incidents_is_suggested_and_opened_in_one_step(
    app: Any, clock: Any
) -> None:
    client, headers, ids = setup(app, clock)
    referent = headers["gpo_referent"]
    response = client.get(EMERGING, headers=referent)
    assert response.status_code == 200
    items = response.get_json()["items"]
    # The projectile cluster: three at the stop and one 100 m away; not the one 2 km
    # away, not the two vandalisms (fewer than three).
    assert len(items) == 1
    cluster = items[0]
    assert cluster["family"] == "projectile"
    assert cluster["count"] == 4
    assert set(cluster["incident_ids"]) == {ids[k] for k in ("stop-1", "stop-2", "stop-3", "near")}
    assert cluster["point"] is not None
    assert cluster["point"]["radius_m"] >= 300
    assert "narrative" not in response.get_data(as_text=True)
    assert "Agent Fictif" not in response.get_data(as_text=True)

    opened = client.post(
        f"{EMERGING}/problems",
        json={"family": cluster["family"], "incident_ids": cluster["incident_ids"]},
        headers=referent,
    )
    assert opened.status_code == 201, opened.get_json()
    problem_id = opened.get_json()["id"]
    assert opened.get_json()["linked"] == 4
    problem = client.get(f"/api/v1/problems/{problem_id}", headers=referent).get_json()
    assert problem["scope"]["natures"] == ["projectile"]
    links = client.get(f"/api/v1/problems/{problem_id}/links", headers=referent).get_json()
    assert sorted((link["incident_id"], link["state"]) for link in links["items"]) == sorted(
        (incident_id, "confirmed") for incident_id in cluster["incident_ids"]
    )
    # Covered now: no suggestion left.
    assert client.get(EMERGING, headers=referent).get_json() == {"items": []}


def test_a_cluster_at_one_stop_is_scoped_to_the_stop(app: Any, clock: Any) -> None:
    client, headers, ids = setup(app, clock)
    referent = headers["gpo_referent"]
    opened = client.post(
        f"{EMERGING}/problems",
        json={"family": "projectile", "incident_ids": [ids["stop-1"], ids["stop-2"]]},
        headers=referent,
    )
    assert opened.status_code == 201, opened.get_json()
    problem = client.get(f"/api/v1/problems/{opened.get_json()['id']}", headers=referent)
    scope = problem.get_json()["scope"]
    assert scope["stops"] == [{"operator": "tisseo", "stop_id": "stop_point:SP_1121"}]
    assert scope.get("point") is None
    # Two linked: the third at the stop and the one near-by are not a cluster any more.
    assert client.get(EMERGING, headers=referent).get_json() == {"items": []}


def test_incidents_outside_the_window_or_the_gpo_are_not_clustered(app: Any, clock: Any) -> None:
    client, headers, _ = setup(app, clock)
    referent = headers["gpo_referent"]
    # The window is a setting (cluster_window, 28 days).
    clock.advance(days=29)
    assert client.get(EMERGING, headers=referent).get_json() == {"items": []}
    clock.advance(days=-29)
    # Another GPO's referent cannot see it; partners may not ask; a foreign incident is 404.
    assert client.get("/api/v1/gpos/gpo-other/emerging", headers=referent).status_code == 404
    assert client.get(EMERGING, headers=headers["gpo_partner"]).status_code == 403
    foreign = client.post(
        f"{EMERGING}/problems",
        json={"family": "projectile", "incident_ids": ["00000000-0000-0000-0000-000000000000"]},
        headers=referent,
    )
    assert foreign.status_code == 404
    bad = client.post(f"{EMERGING}/problems", json={"family": "nope"}, headers=referent)
    assert bad.status_code == 422
    fields = {error["field"] for error in bad.get_json()["errors"]}
    assert {"family", "incident_ids"} <= fields
