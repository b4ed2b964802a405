"""The service's own consumers under faults, with a load of sheets arriving meanwhile.

- A consumer killed (SIGKILL) between its commit and its ack: the message comes back
  (RabbitMQ at once, Redis after the visibility timeout) and is recognised as applied.
- The database restarted (every connection cut, then refused, then accepted again)
  while sheets arrive: each sheet is answered 201 or 503 (never 500), nothing is half
  stored, a 503 retried with its Idempotency-Key is stored once, and every accepted
  sheet is applied exactly once by the consumer behind the relay.

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

from intake_service import create_app
from intake_service.models import AppliedEvent, AuditEntry, Incident, IncidentVersion, OutboxEvent
from intake_service.platform.db import Database
from intake_service.territory import zones
from tests.brokers import broker_url, drop_namespace, fresh_namespace, fresh_service_code
from tests.conftest import _truncate, app_config
from tests.consumer_process import CONSUMER, EFFECT, apply
from tests.factories import a_sheet, create_tokens
from tests.proxy import TcpProxy
from workers.consumer import EventConsumer
from workers.relay import Relay

pytestmark = pytest.mark.slow

SHEETS = 300


def effects(db: Database) -> Counter[str]:
    """How many times the consumer applied each incident's event (one audit entry each)."""
    with db.reading() as session:
        rows = session.scalars(select(AuditEntry.resource_id).where(AuditEntry.action == EFFECT))
        return Counter(str(row) for row in rows)


def submit_all(
    app: Any, headers: dict[str, str], prefix: str, count: int, statuses: dict[str, int]
) -> None:
    """POST ``count`` sheets (Idempotency-Key = reference); note the status of each."""
    client = app.test_client()
    for index in range(count):
        reference = f"{prefix}-{index:04d}"
        sheet = a_sheet(reference)
        sheet["location"]["insee_code"] = "31555"
        response = client.post(
            "/api/v1/incidents", json=sheet, headers={**headers, "Idempotency-Key": reference}
        )
        statuses[reference] = response.status_code
        time.sleep(0.01)  # a steady load, spanning the outage


def wait_for(predicate: Any, seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def report(name: str, sent: int, accepted: int, applied: Counter[str], duplicates: int) -> None:
    lost = accepted - len(applied)
    print(
        f"\n[{name}] sent={sent} accepted={accepted} delivered={sum(applied.values())} "
        f"applied={len(applied)} duplicates_suppressed={duplicates} lost={lost}"
    )


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    return broker_url(request.param)


def test_a_consumer_killed_between_its_work_and_its_ack_applies_each_event_once(
    pg_app: Any, broker: str, clock: Any, postgres_database: str, tmp_path: Path
) -> None:
    db = pg_app.extensions["intake.db"]
    headers = create_tokens(db, clock.now)["operator"]
    service_code = fresh_service_code()
    namespace = fresh_namespace()
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", service_code, "DIPN 31 — test")])
    marker = tmp_path / "stalled"
    env = {
        **os.environ,
        "DATABASE_URL": postgres_database,
        "BROKER_URL": broker,
        "NAMESPACE": namespace,
        "VISIBILITY_SECONDS": "2",
    }
    command = [sys.executable, "-m", "tests.consumer_process"]
    relay = Relay(db, broker, poll_seconds=0.05, namespace=namespace)
    stop = threading.Event()
    relay_thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    relay_thread.start()
    stalling = subprocess.Popen(
        command,
        env={**env, "STALL_AT": "60", "MARKER": str(marker)},
        stderr=subprocess.DEVNULL,
    )
    statuses: dict[str, int] = {}
    load = threading.Thread(target=submit_all, args=(pg_app, headers, "KILLACK", SHEETS, statuses))
    restarted = None
    try:
        load.start()
        assert wait_for(marker.exists, 60), "the consumer never reached its 60th message"
        stalling.send_signal(signal.SIGKILL)  # committed, not acknowledged
        stalling.wait(timeout=10)
        stalled_at = len(effects(db))
        restarted = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        load.join(timeout=120)
        accepted = [ref for ref, status in statuses.items() if status == 201]
        assert len(accepted) == SHEETS, Counter(statuses.values())
        assert wait_for(lambda: len(effects(db)) == SHEETS, 60), len(effects(db))
        # The killed consumer's unacknowledged messages come back (Redis: after its
        # visibility timeout, 2 s here); let them arrive and be recognised.
        time.sleep(4)
    finally:
        stop.set()
        relay_thread.join(timeout=10)
        for process in (stalling, restarted):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        drop_namespace(broker, namespace, (service_code,))
    assert restarted is not None
    assert restarted.wait(timeout=30) == 0
    log = restarted.stderr.read() if restarted.stderr else ""
    duplicates = log.count("already applied")
    applied = effects(db)
    report("consumer killed before its ack", SHEETS, SHEETS, applied, duplicates)
    with db.reading() as session:
        incidents = set(session.scalars(select(Incident.id)))
        recorded = session.scalar(
            select(func.count()).select_from(AppliedEvent).where(AppliedEvent.consumer == CONSUMER)
        )
    assert stalled_at >= 60
    assert set(applied) == incidents  # nothing lost
    assert all(count == 1 for count in applied.values())  # nothing applied twice
    assert recorded == SHEETS
    assert duplicates >= 1  # the message in hand at the kill came back, and was skipped


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))


def test_a_database_restart_under_load_loses_nothing_and_stores_nothing_by_halves(
    postgres_database: str, clock: Any, tmp_path: Path
) -> None:
    _truncate(postgres_database)
    broker = broker_url("redis")
    target = urlsplit(postgres_database)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxy.restore()
    proxied = through(proxy, postgres_database)
    app = create_app(app_config(proxied, tmp_path), clock=clock)
    db: Database = app.extensions["intake.db"]
    direct = Database(postgres_database)
    headers = create_tokens(direct, clock.now)["operator"]
    service_code = fresh_service_code()
    namespace = fresh_namespace()
    with direct.transaction() as session:
        zones.replace_zones(session, [("31555", service_code, "DIPN 31 — test")])
    relay = Relay(db, broker, poll_seconds=0.05, namespace=namespace)
    consumer = EventConsumer(CONSUMER, db, broker, apply, namespace=namespace)
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in (relay, consumer)]
    for thread in threads:
        thread.start()
    statuses: dict[str, int] = {}
    load = threading.Thread(target=submit_all, args=(app, headers, "DBDOWN", SHEETS, statuses))
    try:
        load.start()
        assert wait_for(lambda: len(statuses) >= 80 or not load.is_alive(), 60)
        proxy.cut()  # the database goes away: connections dropped, new ones refused
        time.sleep(1.5)
        proxy.restore()  # and comes back
        load.join(timeout=120)
        codes = Counter(statuses.values())
        assert set(codes) <= {201, 503}, codes  # never a 500
        assert codes[503] >= 1, "the outage was not seen: the test proves nothing"
        last = [statuses[reference] for reference in sorted(statuses)[-20:]]
        assert set(last) == {201}, "the service did not recover by itself"
        # The operator's system retries what was refused, with the same key.
        client = app.test_client()
        for reference, status in sorted(statuses.items()):
            if status == 503:
                sheet = a_sheet(reference)
                sheet["location"]["insee_code"] = "31555"
                retried = client.post(
                    "/api/v1/incidents",
                    json=sheet,
                    headers={**headers, "Idempotency-Key": reference},
                )
                assert retried.status_code in (200, 201), retried.get_json()
        assert wait_for(lambda: len(effects(direct)) == SHEETS, 60), len(effects(direct))
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        drop_namespace(broker, namespace, (service_code,))
        proxy.cut()
        db.dispose()
    applied = effects(direct)
    with direct.reading() as session:
        references = Counter(session.scalars(select(Incident.operator_reference)))
        incidents = set(session.scalars(select(Incident.id)))
        versions = set(session.scalars(select(IncidentVersion.incident_id)))
        submitted = Counter(
            session.scalars(
                select(OutboxEvent.incident_id).where(
                    OutboxEvent.event_type == "incident.submitted"
                )
            )
        )
    direct.dispose()
    report("database restart", SHEETS, len(references), applied, consumer.duplicates)
    print(f"[database restart] answered {dict(Counter(statuses.values()))} during the load")
    assert set(references) == set(statuses)  # every sheet stored, after its retry if refused
    assert all(count == 1 for count in references.values())  # and once
    assert versions == incidents  # no incident without its version...
    assert set(submitted) == incidents  # ...or its event
    assert set(submitted.values()) == {1}
    assert set(applied) == incidents  # each reached the consumer
    assert all(count == 1 for count in applied.values())  # exactly once
