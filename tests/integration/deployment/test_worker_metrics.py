"""What a worker process counts reaches Prometheus: each serves its own metrics on
METRICS_PORT (the relay's relayed events, a consumer's events by outcome), and stops
serving them when it stops.

The workers run as the compose file runs them (``intake-service workers NAME``), on
PostgreSQL and Redis; the sheets come from an API in this process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from intake_service.deployment import metrics
from intake_service.feed.topology import connect, internal_queue
from intake_service.models import AppliedEvent, OutboxEvent
from intake_service.platform.db import Database
from intake_service.territory import zones
from tests.brokers import broker_url, drop_namespace, fresh_namespace, fresh_service_code
from tests.conftest import app_config
from tests.factories import a_sheet, create_tokens
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[3]
CLI = str(Path(sys.executable).with_name("intake-service"))
SHEETS = 5


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample a process serves on its metrics port, by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def wait_for(predicate: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def answers(port: int) -> bool:
    try:
        scrape(port)
    except (OSError, urllib.error.URLError):
        return False
    return True


def test_the_relay_and_a_consumer_serve_what_they_counted_on_their_own_port(
    pg_app: Any, postgres_database: str, clock: Any, tmp_path: Path
) -> None:
    broker = broker_url("redis")
    namespace, service = fresh_namespace(), fresh_service_code()
    db: Database = pg_app.extensions["intake.db"]
    headers = create_tokens(db, clock.now)["operator"]
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", service, "DIPN 31 — test")])
    with connect(broker) as connection:  # the linker's queue exists before the relay publishes
        internal_queue("linker", namespace)(connection.default_channel).declare()
    client = pg_app.test_client()
    for index in range(SHEETS):
        sheet = a_sheet(f"WMET-{index}")
        sheet["location"]["insee_code"] = "31555"
        assert client.post("/api/v1/incidents", json=sheet, headers=headers).status_code == 201

    relay_port, linker_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": postgres_database,
        "BROKER_URL": broker,
        "BROKER_NAMESPACE": namespace,
        "SECRET_KEY": "test",
        "INSTANCE_PATH": str(tmp_path),
        "METRICS_HOST": "127.0.0.1",
    }
    processes = [
        subprocess.Popen(
            [CLI, "workers", name],
            env={**env, "METRICS_PORT": str(port)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name, port in (("relay", relay_port), ("linker", linker_port))
    ]
    try:

        def count(statement: Any) -> int:
            with db.reading() as session:
                return int(session.scalar(statement) or 0)

        sent = select(func.count()).where(OutboxEvent.sent_at.is_not(None))
        applied = select(func.count()).where(AppliedEvent.consumer == "linker")
        wait_for(lambda: count(sent) == count(select(func.count()).select_from(OutboxEvent)))
        wait_for(lambda: count(applied) == SHEETS)
        relayed = count(sent)
        assert relayed >= SHEETS  # one incident.submitted per sheet at least

        wait_for(lambda: answers(relay_port) and answers(linker_port))
        assert total(scrape(relay_port), "intake_relayed_events_total") == relayed
        assert (
            total(scrape(relay_port), "intake_relayed_events_total", type="incident.submitted")
            == SHEETS
        )
        # Counted right after the commit the database shows: give it that moment.
        wait_for(
            lambda: (
                total(
                    scrape(linker_port),
                    "intake_consumer_events_total",
                    consumer="linker",
                    outcome="applied",
                )
                == SHEETS
            ),
            seconds=10,
        )
        # Each process serves its own counters, not the deployment's gauges.
        assert total(scrape(linker_port), "intake_relayed_events_total") == 0
        assert ("intake_outbox_unsent_events", ()) not in scrape(relay_port)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        errors = [process.communicate(timeout=60)[1] for process in processes]
        drop_namespace(broker, namespace, (service,))
    assert [process.returncode for process in processes] == [0, 0], errors
    assert not answers(relay_port)
    assert not answers(linker_port)


def test_the_metrics_port_closes_when_the_workers_stop(tmp_path: Path) -> None:
    port = free_port()
    served = app_config("sqlite://", tmp_path, metrics_port=port, metrics_host="127.0.0.1")
    with metrics.serving_process_metrics(served):
        metrics.RELAYED.labels("test.counted").inc()
        assert total(scrape(port), "intake_relayed_events_total", type="test.counted") >= 1
    assert not answers(port)


def test_without_a_metrics_port_nothing_is_served(tmp_path: Path) -> None:
    with metrics.serving_process_metrics(app_config("sqlite://", tmp_path)) as port:
        assert port is None  # METRICS_PORT unset: the embedded default


def test_a_metrics_port_already_taken_stops_the_worker_at_start(tmp_path: Path) -> None:
    """A worker nobody can scrape would count in silence: it fails loudly instead."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        served = app_config("sqlite://", tmp_path, metrics_port=port, metrics_host="127.0.0.1")
        with pytest.raises(OSError, match="in use"), metrics.serving_process_metrics(served):
            pass
