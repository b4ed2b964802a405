"""More than one of everything, on PostgreSQL and RabbitMQ: two API processes, two relays
and two instances of an internal consumer, a few hundred sheets, one relay killed mid-way.

Every sheet reaches its feed, each is applied once by the consumers, none is lost. The
counts are printed (``pytest -s``).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from intake_service.feed.topology import connect, feed_queue, internal_queue
from intake_service.models import AuditEntry
from intake_service.platform.db import Database
from intake_service.territory import zones
from tests.brokers import broker_url, drop_namespace, fresh_namespace, fresh_service_code
from tests.conftest import _truncate
from tests.consumer_process import CONSUMER, EFFECT
from tests.factories import a_sheet, create_tokens
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[3]
CLI = str(Path(sys.executable).with_name("intake-service"))
SHEETS = 300


def wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "an API process died at start"
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    pytest.fail(f"the API on port {port} did not start")


def effects(db: Database) -> Counter[str]:
    with db.reading() as session:
        return Counter(
            session.scalars(select(AuditEntry.resource_id).where(AuditEntry.action == EFFECT))
        )


@pytest.mark.slow
def test_two_of_everything_and_a_relay_killed_lose_nothing_and_apply_once(
    postgres_database: str, tmp_path: Path
) -> None:
    _truncate(postgres_database)
    broker = broker_url("rabbitmq")
    namespace, service = fresh_namespace(), fresh_service_code()
    db = Database(postgres_database)
    now = dt.datetime.now(dt.UTC)
    token = create_tokens(db, now)["operator"]
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", service, "DIPN 31 — test")])
    env = {
        **os.environ,
        "DATABASE_URL": postgres_database,
        "BROKER_URL": broker,
        "BROKER_NAMESPACE": namespace,
        "NAMESPACE": namespace,
        "SECRET_KEY": "test",
        "INSTANCE_PATH": str(tmp_path),
        "RELAY_BATCH_SIZE": "20",
    }
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            list(args), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        processes.append(process)
        return process

    connection = connect(broker)
    feed = feed_queue(service, namespace)(connection.default_channel)
    feed.declare()
    internal_queue(CONSUMER, namespace)(connection.default_channel).declare()
    envelopes: list[dict[str, Any]] = []
    try:
        for _ in range(2):
            start(sys.executable, "-m", "tests.consumer_process")
        ports = [free_port(), free_port()]
        apis = [
            start(CLI, "serve", "--without-workers", "--workers", "1", "--port", str(port))
            for port in ports
        ]
        for port, api in zip(ports, apis, strict=True):
            wait_until_up(port, api)
        relays = [start(CLI, "workers", "relay") for _ in range(2)]

        accepted: list[str] = []

        def submit(index: int) -> int:
            sheet = a_sheet(
                f"MULTI-{index}",
                occurred_at=(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).isoformat(),
            )
            sheet["location"]["insee_code"] = "31555"
            answer = requests.post(
                f"http://127.0.0.1:{ports[index % 2]}/api/v1/incidents",
                json=sheet,
                headers=token,
                timeout=30,
            )
            if answer.status_code == 201:
                accepted.append(answer.json()["id"])
            return answer.status_code

        killed = threading.Event()

        def submit_and_kill(index: int) -> int:
            status = submit(index)
            if index == SHEETS // 2 and not killed.is_set():
                killed.set()
                relays[0].send_signal(signal.SIGKILL)  # mid-way, mid-batch maybe
            return status

        with ThreadPoolExecutor(8) as pool:
            statuses = Counter(pool.map(submit_and_kill, range(SHEETS)))
        assert statuses == {201: SHEETS}, statuses
        assert killed.is_set()

        deadline = time.monotonic() + 120
        applied: Counter[str] = Counter()
        while time.monotonic() < deadline:
            message = feed.get(no_ack=False, accept=["json"])
            if message is not None:
                message.ack()
                envelopes.append(message.decode())
                continue
            on_feed = {
                e["payload"]["incident"]["id"]
                for e in envelopes
                if e["type"] == "incident.submitted"
            }
            applied = effects(db)
            if len(on_feed) >= SHEETS and len(applied) >= SHEETS:
                break
            time.sleep(0.2)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        feed.delete()
        connection.release()
        drop_namespace(broker, namespace)
    submitted = [e for e in envelopes if e["type"] == "incident.submitted"]
    on_feed = Counter(e["payload"]["incident"]["id"] for e in submitted)
    applied = effects(db)
    db.dispose()
    lost = len(set(accepted) - set(on_feed))
    print(
        f"\n[multi-instance] apis=2 relays=2 (one SIGKILLed) consumers=2 sent={SHEETS} "
        f"accepted={statuses[201]} on_feed={len(on_feed)} feed_messages={len(submitted)} "
        f"duplicates_on_feed={len(submitted) - len(set(e['id'] for e in submitted))} "
        f"applied={len(applied)} applied_twice={sum(1 for n in applied.values() if n > 1)} "
        f"lost={lost}"
    )
    assert lost == 0
    assert set(on_feed) == set(applied) == set(accepted)
    assert set(applied.values()) == {1}  # each applied once, by one of the two consumers
