"""Linking with the real Tisséo feed, end to end: incidents posted over HTTP, relayed
through a real broker, consumed by the linker; the referent confirms over HTTP.

A stone-throwing problem (``projectile``) at the Récollets Daste station (its parent
stop area: incidents are given at its platform) and on line 142, in the evening.
Three incidents: stone-throwing at the platform (proposed, with its reasons), at a stop
about 2 km away off the line (not proposed), and vandalism at the platform (not proposed).

PostgreSQL + Redis, and SQLite + the in-memory broker.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intake_service import create_app
from intake_service.gpo import gpos
from intake_service.intake.places import SharedCommunes
from intake_service.platform import geo
from intake_service.territory import gtfs, gtfs_feed, zones
from tests.brokers import broker_url, drop_namespace, fresh_namespace, fresh_service_code
from tests.conftest import TISSEO_GTFS, _truncate, app_config
from tests.factories import a_sheet, create_tokens
from workers import linker
from workers.relay import Relay

PLATFORM = "stop_point:SP_1121"  # Récollets Daste, a platform
STATION = "stop_area:SA_746"  # its parent stop area
LINE = "line:142"


@pytest.fixture(scope="module")
def tisseo_feed() -> gtfs_feed.ParsedFeed:
    return gtfs_feed.read_feed(TISSEO_GTFS)


def stop_about_2_km_away(feed: gtfs_feed.ParsedFeed) -> gtfs_feed.ParsedStop:
    """The platform of the feed whose distance to PLATFORM is nearest to 2 km."""
    stops = {stop.stop_id: stop for stop in feed.stops}
    origin = stops[PLATFORM]
    lat, lon = origin.lat, origin.lon
    assert lat is not None
    assert lon is not None

    def gap(stop: gtfs_feed.ParsedStop) -> float:
        assert stop.lat is not None
        assert stop.lon is not None
        return abs(geo.distance_m(lat, lon, stop.lat, stop.lon) - 2000)

    platforms = [
        s
        for s in feed.stops
        if s.location_type == 0 and s.lat is not None and s.lon is not None and s.parent_station
    ]
    return min(platforms, key=gap)


@pytest.fixture(params=[("postgresql", "redis"), ("sqlite", "memory")], ids=lambda p: "+".join(p))
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Any, tisseo_feed: gtfs_feed.ParsedFeed
) -> Iterator[dict[str, Any]]:
    database, broker_name = request.param
    if database == "postgresql":
        url: str = request.getfixturevalue("postgres_database")
        _truncate(url)
    else:
        path = tmp_path / "intake.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    broker = broker_url("redis") if broker_name == "redis" else "memory://"
    namespace = fresh_namespace()
    service_code = fresh_service_code("31")
    app = create_app(app_config(url, tmp_path, broker_url=broker), clock=clock)
    db = app.extensions["intake.db"]
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        gtfs.import_feed(
            session,
            "tisseo",
            tisseo_feed,
            source="test",
            now=clock.now,
            commune_of=SharedCommunes(None).commune_at,
        )
        zones.replace_zones(session, [("31555", service_code, "DIPN 31 — test")])
        gpos.add_gpo(
            session,
            "gpo-toulouse",
            "GPO transports Toulouse",
            services=[service_code],
            operators=["tisseo"],
            auto_confirm_strong=False,
            now=clock.now,
        )
    relay = Relay(db, broker, clock=clock, namespace=namespace)
    consumer = linker.build(db, broker, namespace)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    yield {
        "client": app.test_client(),
        "headers": headers,
        "relay": relay,
        "consumer": consumer,
        "db": db,
    }
    stop.set()
    thread.join(10)
    relay._reset()
    if broker_name == "redis":
        drop_namespace(broker, namespace)
    db.dispose()


def wait_for(predicate: Any, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def stone_throwing(reference: str, **location: Any) -> dict[str, Any]:
    sheet = a_sheet(reference, natures=["projectile"], primary_nature="projectile")
    sheet["location"].update(location)
    return sheet


def test_only_the_stone_throwing_at_the_stop_is_proposed_and_confirming_links_it(
    stack: dict[str, Any], tisseo_feed: gtfs_feed.ParsedFeed
) -> None:
    client, headers = stack["client"], stack["headers"]
    referent = headers["gpo_referent"]
    created = client.post(
        "/api/v1/gpos/gpo-toulouse/problems",
        json={
            "title": "Jets de pierres aux Récollets, le soir",
            "description": "Jets de pierres sur les bus de la ligne 142 à Récollets Daste.",
            "scope": {
                "routes": [{"operator": "tisseo", "route_id": LINE}],
                "stops": [{"operator": "tisseo", "stop_id": STATION}],
                "natures": ["projectile"],
                "hours": {"from": 18, "to": 2},
            },
        },
        headers=referent,
    )
    assert created.status_code == 201, created.get_json()
    problem_id = created.get_json()["id"]

    far = stop_about_2_km_away(tisseo_feed)
    assert far.lat is not None
    assert far.lon is not None
    distance = geo.distance_m(43.58383390955881, 1.4434268737279334, far.lat, far.lon)
    assert 1800 < distance < 2200
    sheets = {
        "at_stop": stone_throwing("LINK-1"),
        "two_km_away": stone_throwing(
            "LINK-2",
            place="platform",
            route_id=None,
            vehicle_id=None,
            stop_id=far.stop_id,
            coordinates={"lat": far.lat, "lon": far.lon, "accuracy_m": 10, "source": "gps"},
        ),
        "other_nature": a_sheet("LINK-3", natures=["vandalism"], primary_nature="vandalism"),
    }
    for sheet in sheets.values():
        sheet["location"] = {k: v for k, v in sheet["location"].items() if v is not None}
    ids = {}
    for name, sheet in sheets.items():
        response = client.post("/api/v1/incidents", json=sheet, headers=headers["operator"])
        assert response.status_code == 201, response.get_json()
        ids[name] = response.get_json()["id"]

    assert stack["relay"].relay_batch() == 3
    assert wait_for(lambda: stack["consumer"].applied == 3)

    queue = client.get("/api/v1/gpos/gpo-toulouse/proposals", headers=referent)
    assert queue.status_code == 200
    items = queue.get_json()["items"]
    assert [item["incident_id"] for item in items] == [ids["at_stop"]]
    proposal = items[0]
    assert proposal["problem_id"] == problem_id
    assert proposal["state"] == "proposed"
    assert proposal["reasons"] == [
        {"dimension": "stop", "text": "même arrêt (Récollets Daste)"},
        {"dimension": "nature", "text": "même nature (jet de projectile)"},
        {"dimension": "hours", "text": "entre 18 h et 2 h"},
    ]
    assert proposal["strong"] is True
    assert proposal["incident"]["stop_name"] == "Récollets Daste"
    assert "narrative" not in proposal["incident"]

    confirmed = client.post(
        f"/api/v1/problems/{problem_id}/links/{ids['at_stop']}/confirm", headers=referent
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    links = client.get(f"/api/v1/problems/{problem_id}/links", headers=referent).get_json()
    assert [(link["incident_id"], link["state"]) for link in links["items"]] == [
        (ids["at_stop"], "confirmed")
    ]
    assert client.get("/api/v1/gpos/gpo-toulouse/proposals", headers=referent).get_json() == {
        "items": []
    }
    # The partner sees the confirmed link as its brief gives it: the Paris day, the stop,
    # the natures; no incident id, time to the second, line, stop id or reasons.
    seen = client.get(f"/api/v1/problems/{problem_id}/links", headers=headers["gpo_partner"])
    (partner_link,) = seen.get_json()["items"]
    assert partner_link == {
        "problem_id": problem_id,
        "problem_title": partner_link["problem_title"],
        "state": "confirmed",
        "incident": {
            "occurred_on": partner_link["incident"]["occurred_on"],
            "stop": "Récollets Daste",
            "natures": ["projectile"],
        },
    }
    assert len(partner_link["incident"]["occurred_on"]) == 10  # YYYY-MM-DD
    text = seen.get_data(as_text=True)
    for secret in ("Agent Fictif", ids["at_stop"], PLATFORM, LINE):
        assert secret not in text
