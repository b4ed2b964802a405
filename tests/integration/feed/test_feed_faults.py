"""Faults on the way to the feed: the broker goes away, the relay is killed mid-batch.

Counts (sent, accepted, delivered, duplicates suppressed, lost) are printed with -s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select

from intake_service.models import OutboxEvent
from intake_service.territory import zones
from tests.brokers import broker_url, feed_reader, fresh_service_code
from tests.factories import a_sheet, create_tokens
from tests.proxy import TcpProxy
from workers.relay import Relay

CLI = str(Path(sys.executable).with_name("intake-service"))


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    return broker_url(request.param)


@pytest.fixture
def api(pg_app: Any) -> Any:
    return pg_app


def submit(app: Any, headers: dict[str, str], count: int, prefix: str) -> list[str]:
    client = app.test_client()
    ids = []
    for index in range(count):
        sheet = a_sheet(f"{prefix}-{index}")
        sheet["location"]["insee_code"] = "31555"
        response = client.post("/api/v1/incidents", json=sheet, headers=headers)
        assert response.status_code == 201
        ids.append(response.get_json()["id"])
    return ids


def report(
    name: str, sent: int, accepted: int, envelopes: list[dict[str, Any]], expected: list[str]
) -> None:
    """Deduplicate by event id, as a consumer does, then check every accepted sheet arrived."""
    submitted = [e for e in envelopes if e["type"] == "incident.submitted"]
    applied = {e["id"]: e["payload"]["incident"]["id"] for e in submitted}
    duplicates = len(submitted) - len(applied)
    incidents = Counter(applied.values())
    lost = len(set(expected) - set(incidents))
    print(
        f"\n[{name}] sent={sent} accepted={accepted} delivered={len(submitted)} "
        f"applied={len(applied)} duplicates_suppressed={duplicates} lost={lost}"
    )
    assert lost == 0
    assert set(incidents) == set(expected)
    assert all(count == 1 for count in incidents.values())  # one event per sheet, once applied


def test_sheets_accepted_while_the_broker_is_down_reach_the_feed_once_it_is_back(
    api: Any, broker: str, clock: Any
) -> None:
    db = api.extensions["intake.db"]
    headers = create_tokens(db, clock.now)["operator"]
    service_code = fresh_service_code()
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", service_code, "DIPN 31 — test")])
    target = urlsplit(broker)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 0)
    proxy.restore()
    relay = Relay(db, through(proxy, broker), poll_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    with feed_reader(broker, service_code) as reader:
        thread.start()
        first = submit(api, headers, 5, "BEFORE")
        time.sleep(0.5)
        proxy.cut()  # the broker goes away
        during = submit(api, headers, 40, "DURING")
        time.sleep(1.0)
        with db.transaction() as session:
            unsent = session.scalar(select(func.count()).where(OutboxEvent.sent_at.is_(None)))
        assert unsent >= 40
        proxy.restore()  # and comes back
        deadline = time.monotonic() + 30
        envelopes: list[dict[str, Any]] = []
        while time.monotonic() < deadline and len({e["id"] for e in envelopes}) < 45:
            envelopes += reader.drain(quiet=0.3)
        stop.set()
        thread.join(timeout=10)
        proxy.cut()
    report("broker outage", 45, 45, envelopes, first + during)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).where(OutboxEvent.sent_at.is_(None))) == 0


@pytest.mark.slow
def test_relay_killed_mid_batch_loses_nothing(
    api: Any, broker: str, clock: Any, postgres_database: str
) -> None:
    db = api.extensions["intake.db"]
    headers = create_tokens(db, clock.now)["operator"]
    service_code = fresh_service_code()
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", service_code, "DIPN 31 — test")])
    expected = submit(api, headers, 300, "KILL")
    env = {
        **os.environ,
        "DATABASE_URL": postgres_database,
        "BROKER_URL": broker,
        "SECRET_KEY": "test",
        "RELAY_BATCH_SIZE": "300",
    }
    envelopes: list[dict[str, Any]] = []
    with feed_reader(broker, service_code) as reader:
        relay = subprocess.Popen([CLI, "workers", "relay"], env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            depth = reader.queue.queue_declare(passive=False).message_count
            if depth >= 30:
                break
            time.sleep(0.005)
        relay.send_signal(signal.SIGKILL)  # mid-batch: some published, none marked sent
        relay.wait(timeout=10)
        with db.transaction() as session:
            unsent_after_kill = session.scalar(
                select(func.count()).where(OutboxEvent.sent_at.is_(None))
            )
        envelopes += reader.drain(quiet=0.3)
        restarted = subprocess.Popen([CLI, "workers", "relay"], env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len({e["id"] for e in envelopes}) < 300:
            envelopes += reader.drain(quiet=0.3)
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) == 0
    print(f"\n[relay killed] unsent after kill={unsent_after_kill}")
    assert unsent_after_kill > 0
    report("relay killed mid-batch", 300, 300, envelopes, expected)


def test_a_blocked_event_says_why_and_goes_once_unblocked(api: Any, clock: Any) -> None:
    """An integrator declared the feed queue with other arguments: RabbitMQ refuses ours."""
    url = broker_url("rabbitmq")
    db = api.extensions["intake.db"]
    headers = create_tokens(db, clock.now)["operator"]
    service_code = fresh_service_code()
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", service_code, "DIPN 31 — test")])
    [incident_id] = submit(api, headers, 1, "BLOCKED")
    from kombu import Queue

    from intake_service.feed.topology import EXCHANGE, connect

    connection = connect(url)
    wrong = Queue(
        f"feed.{service_code}", EXCHANGE, routing_key="x", durable=True
    )  # no max priority
    wrong(connection.default_channel).declare()
    relay = Relay(db, url, poll_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        event = None
        while time.monotonic() < deadline:
            with db.transaction() as session:
                event = session.scalars(select(OutboxEvent)).one()
                if event.last_error:
                    break
            time.sleep(0.1)
        assert event is not None
        assert event.sent_at is None
        assert event.last_error is not None
        assert "PRECONDITION_FAILED" in event.last_error
        wrong(connection.channel()).delete()  # the integrator fixes its queue
        with feed_reader(url, service_code) as reader:
            envelope = reader.get(timeout=20)[0]
        assert envelope["payload"]["incident"]["id"] == incident_id
    finally:
        stop.set()
        thread.join(timeout=10)
        connection.release()
