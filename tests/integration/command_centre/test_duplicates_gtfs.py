"""One event, one incident, with the real Tisséo feed, on SQLite and PostgreSQL.

A driver is attacked on line 142 at Récollets Daste: the operator's control room sends a
sheet, the driver's own app another one a minute later (the same vehicle: a strong
match, grouped at once since the service chose so), and a second operator (Mistral)
reports the fight at the same stop two minutes later (within 300 m: a candidate, which
the command centre confirms). A fourth sheet about 2 km away is no candidate. The three
are one group on the console; acknowledging the lead acknowledges all three; each
operator's follow-up and webhook say so, without the other operator's sheet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from intake_service import create_app
from intake_service.access import retention
from intake_service.access.accounts import add_user
from intake_service.feed import webhooks
from intake_service.intake.places import SharedCommunes
from intake_service.models import Incident, Operator, OutboxEvent, WebhookDelivery
from intake_service.platform import geo
from intake_service.platform.config import Config
from intake_service.territory import gtfs, gtfs_feed, zones
from tests.conftest import TISSEO_GTFS, Clock
from tests.factories import a_sheet, create_tokens

PLATFORM = "stop_point:SP_1121"  # Récollets Daste, a platform of line 142
PASSWORD = "mot-de-passe-de-test"


@pytest.fixture(scope="module")
def tisseo_feed() -> gtfs_feed.ParsedFeed:
    return gtfs_feed.read_feed(TISSEO_GTFS)


@pytest.fixture
def network(config: Config, clock: Clock, tisseo_feed: gtfs_feed.ParsedFeed) -> Any:
    app = create_app(
        config.with_overrides({"auto_group_services": frozenset({"ddsp-31"})}), clock=clock
    )
    app.config["WTF_CSRF_ENABLED"] = False
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
        zones.replace_zones(session, [("31555", "ddsp-31", "DIPN 31")])
        for code in ("tisseo", "mistral"):
            operator = session.scalars(select(Operator).where(Operator.code == code)).one()
            webhooks.register(
                session,
                retention.RETENTION_JOB,
                operator.id,
                f"http://127.0.0.1:9/{code}",
                now=clock.now,
                allow_private=True,
            )
        for email, role, scope in (
            ("cic@ddsp31.test", "command_centre", "ddsp-31"),
            ("agent@tisseo.test", "operator", "tisseo"),
            ("agent@mistral.test", "operator", "mistral"),
        ):
            add_user(session, email, PASSWORD, role, scope, now=clock.now)
    yield {"app": app, "db": db, "headers": headers}
    db.dispose()


def _platform(feed: gtfs_feed.ParsedFeed, stop_id: str) -> gtfs_feed.ParsedStop:
    return next(stop for stop in feed.stops if stop.stop_id == stop_id)


def _two_km_away(feed: gtfs_feed.ParsedFeed) -> gtfs_feed.ParsedStop:
    origin = _platform(feed, PLATFORM)
    assert origin.lat is not None
    assert origin.lon is not None

    def gap(stop: gtfs_feed.ParsedStop) -> float:
        assert stop.lat is not None
        assert stop.lon is not None
        return abs(geo.distance_m(origin.lat, origin.lon, stop.lat, stop.lon) - 2000)  # type: ignore[arg-type]

    return min(
        (s for s in feed.stops if s.location_type == 0 and s.lat is not None and s.lon is not None),
        key=gap,
    )


def _submit(network: Any, who: str, sheet: dict[str, Any]) -> dict[str, Any]:
    answer = (
        network["app"]
        .test_client()
        .post("/api/v1/incidents", json=sheet, headers=network["headers"][who])
    )
    assert answer.status_code == 201, answer.get_json()["errors"]
    body: dict[str, Any] = answer.get_json()
    return body


def _signed_in(network: Any, email: str) -> FlaskClient:
    client: FlaskClient = network["app"].test_client()
    assert client.post("/connexion", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def test_three_reports_of_one_aggression_are_one_group_and_the_fourth_is_not_a_candidate(
    network: Any, clock: Clock, tisseo_feed: gtfs_feed.ParsedFeed
) -> None:
    app, db, headers = network["app"], network["db"], network["headers"]
    platform = _platform(tisseo_feed, PLATFORM)
    at = clock.now - dt.timedelta(minutes=3)
    control_room = a_sheet("PC-SURETE-1", occurred_at=at.isoformat())
    first = _submit(network, "operator", control_room)

    # The driver's app, a minute later: the same vehicle 1742 on line 142.
    driver = a_sheet("APP-CONDUCTEUR-1", occurred_at=(at + dt.timedelta(minutes=1)).isoformat())
    driver["reported_by"] = {**driver["reported_by"], "role": "driver", "name": "Conducteur 1742"}
    clock.advance(minutes=1)
    second = _submit(network, "operator", driver)

    # Mistral, at the same stop two minutes later: no Tisséo ids, a point on the platform.
    other = a_sheet(
        "MISTRAL-1",
        occurred_at=(at + dt.timedelta(minutes=2)).isoformat(),
        natures=["violence_passenger"],
        primary_nature="violence_passenger",
    )
    other["location"] = {
        "mode": 3,
        "place": "platform",
        "coordinates": {
            "lat": platform.lat,
            "lon": platform.lon,
            "accuracy_m": 10,
            "source": "gps",
        },
    }
    clock.advance(minutes=1)
    third = _submit(network, "other_operator", other)

    # About 2 km away, at the same time: not the same event.
    far = _two_km_away(tisseo_feed)
    elsewhere = a_sheet("AILLEURS-1", occurred_at=(at + dt.timedelta(minutes=1)).isoformat())
    elsewhere["location"] = {
        "mode": 3,
        "place": "platform",
        "stop_id": far.stop_id,
        "coordinates": {"lat": far.lat, "lon": far.lon, "accuracy_m": 10, "source": "gps"},
    }
    fourth = _submit(network, "operator", elsewhere)

    cic = headers["command_centre"]
    client = app.test_client()
    seen = client.get(f"/api/v1/incidents/{second['id']}/duplicates", headers=cic).get_json()
    assert seen["group"]["members"] == [first["id"], second["id"]]  # grouped at once
    [strong] = [c for c in seen["candidates"] if c["incident_id"] == first["id"]]
    assert strong["strong"] is True
    assert "même véhicule (1742)" in strong["reasons"]
    assert "à 1 min d'intervalle" in strong["reasons"]
    candidates = client.get(f"/api/v1/incidents/{third['id']}/duplicates", headers=cic).get_json()
    proposed = {c["incident_id"]: c for c in candidates["candidates"]}
    assert set(proposed) == {first["id"], second["id"]}
    assert any(r.startswith("à ") and r.endswith(" m") for r in proposed[first["id"]]["reasons"])
    assert "signalé par un autre exploitant" in proposed[first["id"]]["reasons"]
    far_candidates = client.get(f"/api/v1/incidents/{fourth['id']}/duplicates", headers=cic)
    assert far_candidates.get_json()["candidates"] == []

    # The feed carried the candidates with the sheets, and the grouping.
    with db.reading() as session:
        submitted = {
            e.incident_id: e.envelope["payload"]
            for e in session.scalars(
                select(OutboxEvent).where(OutboxEvent.event_type == "incident.submitted")
            )
        }
    assert [c["incident_id"] for c in submitted[second["id"]]["duplicates"]] == [first["id"]]
    assert submitted[fourth["id"]]["duplicates"] == []

    # The CIC confirms Mistral's sheet is the same event: one group of three.
    confirmed = client.post(
        f"/api/v1/incidents/{third['id']}/duplicates/{first['id']}",
        json={"decision": "same"},
        headers=cic,
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    group = confirmed.get_json()["group"]
    assert sorted(group["members"]) == sorted([first["id"], second["id"], third["id"]])
    assert group["lead"] == first["id"]  # P1s all: the earliest received leads

    # The console shows one row for the three, and the fourth apart.
    console = _signed_in(network, "cic@ddsp31.test")
    queue = console.get("/console/").get_data(as_text=True)
    assert f'id="incident-{first["id"]}"' in queue
    assert f'id="incident-{second["id"]}"' not in queue
    assert f'id="incident-{third["id"]}"' not in queue
    assert f'id="incident-{fourth["id"]}"' in queue
    assert "groupe de 3 signalements" in queue
    page = console.get(f"/console/incidents/{first['id']}").get_data(as_text=True)
    assert "Groupe de 3 signalements" in page
    assert "MISTRAL-1" in page

    # Acknowledging the lead acknowledges all three, each keeping its own history.
    acknowledged = client.post(
        f"/api/v1/incidents/{first['id']}/status", json={"status": "acknowledged"}, headers=cic
    )
    assert acknowledged.status_code == 200
    with db.reading() as session:
        statuses = {
            i.id: i.status
            for i in session.scalars(
                select(Incident).where(Incident.id.in_([first["id"], second["id"], third["id"]]))
            )
        }
        deliveries = [
            (d.operator_id, d.payload)
            for d in session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        ]
        mistral = session.scalars(select(Operator).where(Operator.code == "mistral")).one().id
    assert set(statuses.values()) == {"acknowledged"}
    mistral_ack = [p for o, p in deliveries if o == mistral and p.get("status") == "acknowledged"]
    assert len(mistral_ack) == 1
    assert "PC-SURETE-1" not in str(mistral_ack)
    assert first["id"] not in str(mistral_ack)

    follow_up = _signed_in(network, "agent@mistral.test")
    mine = follow_up.get(f"/operateur/incidents/{third['id']}").get_data(as_text=True)
    assert "Déjà signalé au centre par un autre signalement du même événement" in mine
    assert "Prise en compte" in mine
    assert "PC-SURETE-1" not in mine

    # A member leaves the group: it is on its own again, never proposed with them.
    left = client.delete(f"/api/v1/incidents/{third['id']}/group", headers=cic)
    assert left.status_code == 200
    assert left.get_json()["group"] is None
    still = client.get(f"/api/v1/incidents/{first['id']}/duplicates", headers=cic).get_json()
    assert sorted(still["group"]["members"]) == sorted([first["id"], second["id"]])
