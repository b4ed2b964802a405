"""Every accepted sheet reaches the right command centre's feed, once, in priority order.

Real PostgreSQL, and each test once with Redis and once with RabbitMQ.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from intake_service import create_app
from intake_service.intake.places import SharedCommunes
from intake_service.models import OutboxEvent
from intake_service.territory import gtfs, gtfs_feed, zones
from schemas.messages import EnvelopeSchema
from schemas.sheet import evaluated_at
from tests.brokers import broker_url, feed_reader, fresh_service_code
from tests.conftest import REFERENCE_INSTANT, TISSEO_GTFS, _truncate, app_config
from tests.factories import a_sheet, create_tokens
from workers.periodic import WebhookSender
from workers.relay import Relay

# Récollets Daste, a platform of the real feed, in Toulouse (31555).
STOP = "stop_point:SP_1121"


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    return broker_url(request.param)


@pytest.fixture(scope="module")
def tisseo_feed() -> gtfs_feed.ParsedFeed:
    return gtfs_feed.read_feed(TISSEO_GTFS)


@pytest.fixture
def service_code() -> str:
    return fresh_service_code("31")


@pytest.fixture
def stack(
    postgres_database: str,
    broker: str,
    tmp_path: Path,
    clock: Any,
    tisseo_feed: Any,
    service_code: str,
) -> Iterator[dict[str, Any]]:
    """The API on PostgreSQL with the real Tisséo feed imported, and a relay on the broker."""
    _truncate(postgres_database)
    config = app_config(postgres_database, tmp_path, broker_url=broker, webhook_allow_private=True)
    app = create_app(config, clock=clock)
    db = app.extensions["intake.db"]
    headers = create_tokens(db, clock.now)
    communes = SharedCommunes(None)
    with db.transaction() as session:
        gtfs.import_feed(
            session,
            "tisseo",
            tisseo_feed,
            source="test",
            now=clock.now,
            commune_of=communes.commune_at,
        )
        zones.replace_zones(session, [("31555", service_code, "DIPN 31 — test")])
        from intake_service.access.tokens import create_token

        secret = create_token(
            session, "command_centre", service_code, "test CIC", now=clock.now
        ).secret
    headers["cic"] = {"Authorization": f"Bearer {secret}"}
    relay = Relay(db, broker, clock=clock)
    yield {"app": app, "client": app.test_client(), "headers": headers, "relay": relay, "db": db}
    relay._reset()
    db.dispose()


def at_stop(reference: str, **changes: Any) -> dict[str, Any]:
    sheet = a_sheet(reference, **changes)
    sheet["location"]["stop_id"] = STOP
    sheet["location"]["route_id"] = "line:142"
    return sheet


class WebhookReceiver(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        WebhookReceiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook_server() -> Iterator[str]:
    WebhookReceiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WebhookReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_sheet_at_a_real_stop_reaches_its_feed_and_the_ack_flows_back(
    stack: dict[str, Any], broker: str, service_code: str, webhook_server: str
) -> None:
    client, headers = stack["client"], stack["headers"]
    hook = client.put("/api/v1/webhook", json={"url": webhook_server}, headers=headers["operator"])
    assert hook.status_code == 200
    secret = hook.get_json()["secret"]

    created = client.post("/api/v1/incidents", json=at_stop("FEED-1"), headers=headers["operator"])
    assert created.status_code == 201
    incident = created.get_json()
    assert incident["competent_service"] == {
        "kind": "police",
        "code": service_code,
        "name": "DIPN 31 — test",
    }
    assert (incident["police_zone"], incident["insee_code"], incident["routing_basis"]) == (
        "police",
        "31555",
        "stop",
    )

    with feed_reader(broker, service_code) as reader:
        assert stack["relay"].relay_batch() == 1
        envelope, message = reader.get()
        assert message.delivery_info["routing_key"] == f"incident.submitted.{service_code}.P1"
        with evaluated_at(REFERENCE_INSTANT):
            assert EnvelopeSchema().validate(envelope) == {}
        assert envelope["type"] == "incident.submitted"
        assert envelope["payload"]["incident"]["id"] == incident["id"]

        own = client.get(
            f"/api/v1/incidents/{incident['id']}", headers=headers["operator"]
        ).get_json()
        assert own["status"] == "queued"

        queue = client.get("/api/v1/command-centre/incidents", headers=headers["cic"]).get_json()
        assert [item["id"] for item in queue["items"]] == [incident["id"]]
        ack = client.post(
            f"/api/v1/incidents/{incident['id']}/status",
            json={"status": "acknowledged"},
            headers=headers["cic"],
        )
        assert ack.status_code == 200
        seen = client.get(
            f"/api/v1/incidents/{incident['id']}", headers=headers["operator"]
        ).get_json()
        assert seen["status"] == "acknowledged"
        assert [c["status"] for c in seen["status_history"]] == [
            "received",
            "queued",
            "acknowledged",
        ]
        assert seen["status_history"][-1]["author_role"] == "command_centre"

        stack["relay"].relay_batch()
        status_event, message = reader.get()
        assert status_event["type"] == "incident.status_changed"
        assert status_event["payload"]["status"] == "acknowledged"
        assert message.delivery_info["routing_key"] == f"incident.status_changed.{service_code}.P1"

    WebhookSender(stack["db"], allow_private=True).send_due()
    statuses = [json.loads(body)["status"] for _, body in WebhookReceiver.received]
    assert statuses == ["received", "queued", "acknowledged"]
    headers_, body = WebhookReceiver.received[-1]
    expected = hmac.new(
        secret.encode(), headers_["X-Intake-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers_["X-Intake-Signature"] == f"sha256={expected}"
    deliveries = client.get("/api/v1/webhook/deliveries", headers=headers["operator"]).get_json()
    assert {d["state"] for d in deliveries["items"]} == {"delivered"}


def test_p1_published_after_a_hundred_p4_is_consumed_first(
    stack: dict[str, Any], broker: str, service_code: str
) -> None:
    client, headers = stack["client"], stack["headers"]
    calm = {
        "state": "over",
        "channel": "phone",
        "natures": ["vandalism"],
        "primary_nature": "vandalism",
        "injuries": {"count": 0, "severity": "none"},
        "suspects": {"count": 1, "status": "unknown", "weapon": "none"},
        "victims": [],
        "video": {"exists": "no"},
    }
    for index in range(100):
        response = client.post(
            "/api/v1/incidents", json=at_stop(f"P4-{index}", **calm), headers=headers["operator"]
        )
        assert response.get_json()["priority"] == "P4"
    urgent = client.post(
        "/api/v1/incidents", json=at_stop("P1-LAST"), headers=headers["operator"]
    ).get_json()
    assert urgent["priority"] == "P1"
    with feed_reader(broker, service_code) as reader:
        assert stack["relay"].relay_batch() == 101
        first, _ = reader.get()
        assert first["payload"]["incident"]["id"] == urgent["id"]
        rest = reader.drain()
        assert len(rest) == 100
        assert {e["payload"]["incident"]["priority"] for e in rest} == {"P4"}


def test_unroutable_sheet_goes_to_the_unrouted_feed(stack: dict[str, Any], broker: str) -> None:
    client, headers = stack["client"], stack["headers"]
    sheet = a_sheet("NOWHERE", state="over")
    sheet["location"] = {"mode": 3, "place": "surroundings", "insee_code": "99999"}
    created = client.post("/api/v1/incidents", json=sheet, headers=headers["operator"]).get_json()
    assert created["competent_service"] is None
    assert "unrouted" in [w["code"] for w in created["warnings"]]
    with feed_reader(broker, None) as reader:
        reader.drain(quiet=0.2)  # earlier runs' leftovers
        stack["relay"].relay_batch()
        envelopes = reader.drain()
    assert [e["payload"]["incident"]["id"] for e in envelopes] == [created["id"]]


def test_gtfs_checks_on_submission(stack: dict[str, Any]) -> None:
    client, headers = stack["client"], stack["headers"]
    sheet = at_stop("GTFS-1")
    sheet["location"]["route_id"] = "line:nope"
    sheet["location"]["stop_id"] = "stop_point:nope"
    response = client.post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {
        "location.route_id",
        "location.stop_id",
    }

    far = at_stop("GTFS-2")
    far["location"]["coordinates"] = {
        "lat": 43.6045,
        "lon": 1.4440,
        "source": "gps",
    }  # Capitole, 2 km away
    accepted = client.post("/api/v1/incidents", json=far, headers=headers["operator"])
    assert accepted.status_code == 201
    assert "point_far_from_stop" in [w["code"] for w in accepted.get_json()["warnings"]]


def test_outbox_rows_are_marked_sent_once(
    stack: dict[str, Any], broker: str, service_code: str
) -> None:
    client, headers = stack["client"], stack["headers"]
    client.post("/api/v1/incidents", json=at_stop("ONCE-1"), headers=headers["operator"])
    with feed_reader(broker, service_code) as reader:
        assert stack["relay"].relay_batch() == 1
        assert stack["relay"].relay_batch() == 0
        assert len(reader.drain()) == 1
    with stack["db"].transaction() as session:
        events = session.scalars(select(OutboxEvent)).all()
    assert [(e.sent_at is not None, e.attempts) for e in events] == [(True, 1)]
