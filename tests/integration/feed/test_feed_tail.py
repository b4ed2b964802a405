"""``intake-service feed tail``: a live line per message; the feed keeps them unless --ack."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Queue
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from intake_service.feed import tail as feed_tail
from intake_service.feed.topology import FeedPublisher, connect, exchange, feed_queue
from intake_service.models import AuditEntry
from intake_service.platform.migrate import upgrade
from tests.brokers import broker_url, drop_namespace, fresh_namespace, fresh_service_code

CLI = str(Path(sys.executable).with_name("intake-service"))
DOC_ENVELOPE = json.loads(
    (Path(__file__).resolve().parents[3] / "docs" / "feed.md")
    .read_text()
    .split("```json\n")[1]
    .split("```")[0]
)


def env_for(url: str, tmp_path: Path) -> dict[str, str]:
    """The tail's settings: the broker, and a database for its audit entries."""
    database = tmp_path / "audit.sqlite"
    if not database.exists():
        upgrade(f"sqlite:///{database}")
    return {
        "PATH": str(Path(sys.executable).parent),
        "DATABASE_URL": f"sqlite:///{database}",
        "BROKER_URL": url,
        "SECRET_KEY": "test",
        "INSTANCE_PATH": str(tmp_path),
    }


def tail_audit(tmp_path: Path) -> list[tuple[str, str | None, dict[str, Any]]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    try:
        with Session(engine) as session:
            entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
            return [(e.action, e.resource_id, e.detail) for e in entries]
    finally:
        engine.dispose()


@pytest.mark.parametrize("broker_name", ["redis", "rabbitmq"])
@pytest.mark.parametrize("ack", [False, True])
def test_feed_tail_prints_one_line_per_message(broker_name: str, ack: bool, tmp_path: Path) -> None:
    url = broker_url(broker_name)
    service = fresh_service_code()
    connection = connect(url)
    publisher = FeedPublisher(connection)
    publisher.publish({**DOC_ENVELOPE, "id": "warm-up"}, service_code=service, priority="P4")
    feed_queue(service)(connection.default_channel).purge()
    args = [CLI, "feed", "tail", service, "--count", "2", *(["--ack"] if ack else [])]
    tail = subprocess.Popen(
        args, env=env_for(url, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # The tap queue must be bound before the messages are published: wait for it.
        assert tail.stderr is not None
        assert tail.stderr.readline().startswith("listening on ")
        for priority in ("P3", "P1"):
            publisher.publish(DOC_ENVELOPE, service_code=service, priority=priority)
        out, _ = tail.communicate(timeout=30)
        lines = out.strip().splitlines()
        assert len(lines) == 2
        incident_id = DOC_ENVELOPE["payload"]["incident"]["id"]
        assert all(incident_id in line and "incident.submitted" in line for line in lines)
        assert {line.split()[-1] for line in lines} == {
            f"incident.submitted.{service}.P3",
            f"incident.submitted.{service}.P1",
        }
        depth = feed_queue(service)(connection.default_channel).queue_declare(passive=False)
        assert depth.message_count == (0 if ack else 2)
        # Who read the feed, when, how and how much is in the audit log.
        mode = "consume" if ack else "tap"
        assert tail_audit(tmp_path) == [
            ("feed.tail.start", service, {"mode": mode}),
            ("feed.tail.end", service, {"mode": mode, "messages": 2}),
        ]
    finally:
        tail.kill()
        feed_queue(service)(connection.default_channel).delete()
        connection.release()


def test_feed_tail_explains_an_unreachable_broker(tmp_path: Path) -> None:
    result = subprocess.run(
        [CLI, "feed", "tail", "ddsp-31", "--count", "1"],
        env=env_for("redis://127.0.0.1:1/0", tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot reach the broker" in result.stderr


def test_feed_tail_refuses_to_run_unaudited(tmp_path: Path) -> None:
    result = subprocess.run(
        [CLI, "feed", "tail", "ddsp-31", "--count", "1"],
        env={
            **env_for(broker_url("redis"), tmp_path),
            "DATABASE_URL": "postgresql://127.0.0.1:1/x",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr
    assert "listening on" not in result.stderr


def _start_tail(
    url: str, service: str, tmp_path: Path, namespace: str = ""
) -> tuple[subprocess.Popen[str], str]:
    tail = subprocess.Popen(
        [CLI, "feed", "tail", service],
        env={**env_for(url, tmp_path), "BROKER_NAMESPACE": namespace},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert tail.stderr is not None
    ready = tail.stderr.readline()
    assert ready.startswith("listening on "), ready
    return tail, ready.removeprefix("listening on ").strip()


def _tapped_queues(connection: Any, namespace: str = "") -> set[str]:
    table = connection.default_channel.get_table(exchange(namespace).name)
    return {queue for _, _, queue in table}


def test_a_killed_tap_on_redis_is_pruned_and_a_live_one_kept(tmp_path: Path) -> None:
    url = broker_url("redis")
    namespace = fresh_namespace()
    service = fresh_service_code()
    connection = connect(url)
    publisher = FeedPublisher(connection, namespace)
    killed, killed_queue = _start_tail(url, service, tmp_path, namespace)
    alive, alive_queue = _start_tail(url, service, tmp_path, namespace)
    redis_client = redis.Redis.from_url(url)
    try:
        killed.kill()  # SIGKILL: no clean-up
        killed.wait(timeout=10)
        assert {killed_queue, alive_queue} <= _tapped_queues(connection, namespace)
        # Its alive key is renewed no more; here it expires at once instead of in 30 s.
        redis_client.delete(f"{killed_queue}.alive")

        assert feed_tail.prune_dead_taps(connection, namespace) == [killed_queue]

        assert killed_queue not in _tapped_queues(connection, namespace)
        assert alive_queue in _tapped_queues(connection, namespace)
        publisher.publish(DOC_ENVELOPE, service_code=service, priority="P2")
        assert alive.stdout is not None
        assert DOC_ENVELOPE["payload"]["incident"]["id"] in alive.stdout.readline()
        # No list of the dead tap grows with the feed's messages.
        assert not redis_client.keys(f"{killed_queue}*")
        assert feed_tail.prune_dead_taps(connection, namespace) == []
    finally:
        alive.kill()
        alive.wait(timeout=10)
        # The live one was killed too: its binding goes the same way.
        redis_client.delete(f"{alive_queue}.alive")
        feed_tail.prune_dead_taps(connection, namespace)
        drop_namespace(url, namespace, (service,))
        connection.release()


def test_a_tap_renews_its_key_and_keeps_receiving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Across several renewals (every 0.3 s here), on the connection kombu also polls on."""
    monkeypatch.setattr(feed_tail, "TAP_RENEW_SECONDS", 0.3)
    url = broker_url("redis")
    namespace = fresh_namespace()
    service = fresh_service_code()
    connection = connect(url)
    publisher = FeedPublisher(connection, namespace)
    ready = threading.Event()
    lines: list[str] = []

    def read() -> None:
        for line in feed_tail.tail(
            url,
            service,
            consume=False,
            count=4,
            namespace=namespace,
            on_ready=lambda _: ready.set(),
        ):
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(timeout=10)
        for n in range(4):
            time.sleep(0.8)  # two renewals between messages
            publisher.publish(
                {**DOC_ENVELOPE, "id": f"renew-{n}"}, service_code=service, priority="P3"
            )
        reader.join(timeout=15)
        assert not reader.is_alive()
        assert len(lines) == 4
        # Done: it unbound itself and said so.
        assert not any(
            q.startswith(f"{namespace}.tail.") for q in _tapped_queues(connection, namespace)
        )
    finally:
        drop_namespace(url, namespace, (service,))
        connection.release()


def test_a_tap_pruned_while_suspended_binds_itself_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed_tail, "TAP_RENEW_SECONDS", 0.3)
    url = broker_url("redis")
    namespace = fresh_namespace()
    service = fresh_service_code()
    connection = connect(url)
    publisher = FeedPublisher(connection, namespace)
    queues: list[str] = []
    ready = threading.Event()
    lines: list[str] = []

    def read() -> None:
        def bound(name: str) -> None:
            queues.append(name)
            ready.set()

        for line in feed_tail.tail(
            url, service, consume=False, count=1, namespace=namespace, on_ready=bound
        ):
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(timeout=10)
        # As if the run had been suspended past its key's life: a pruner unbinds it.
        redis.Redis.from_url(url).delete(f"{queues[0]}.alive")
        assert feed_tail.prune_dead_taps(connection, namespace) == queues
        time.sleep(1.5)  # its next renewal (the drain loop wakes every second) binds it again
        assert queues[0] in _tapped_queues(connection, namespace)
        publisher.publish(DOC_ENVELOPE, service_code=service, priority="P3")
        reader.join(timeout=15)
        assert len(lines) == 1
    finally:
        drop_namespace(url, namespace, (service,))
        connection.release()


@pytest.mark.parametrize("stop", [signal.SIGHUP, signal.SIGTERM])
def test_a_tail_stopped_by_a_signal_unbinds_its_tap(stop: int, tmp_path: Path) -> None:
    url = broker_url("redis")
    service = fresh_service_code()
    connection = connect(url)
    tail, queue = _start_tail(url, service, tmp_path)
    try:
        assert queue in _tapped_queues(connection)
        tail.send_signal(stop)  # a closed terminal, a stop
        _, errors = tail.communicate(timeout=10)
        assert tail.returncode == 0, errors
        assert queue not in _tapped_queues(connection)
        assert not connection.default_channel.client.exists(f"{queue}.alive")
    finally:
        tail.kill()
        connection.release()


def test_the_relay_prunes_dead_taps_in_its_namespace(pg_app: Any, tmp_path: Path) -> None:
    from workers.relay import Relay

    url = broker_url("redis")
    namespace = fresh_namespace()
    connection = connect(url)
    # A tap whose run was killed: bound, no alive key.
    dead = Queue(
        f"{namespace}.tail.gone.1.abc", exchange(namespace), routing_key="incident.*.ddsp-31.*"
    )
    dead(connection.default_channel).declare()
    assert dead.name in _tapped_queues(connection, namespace)
    relay = Relay(pg_app.extensions["intake.db"], url, namespace=namespace)
    try:
        assert relay.relay_batch() == 0  # nothing to publish; the first batch redeclares
        assert dead.name not in _tapped_queues(connection, namespace)
    finally:
        relay._reset()
        drop_namespace(url, namespace)
        connection.release()


def test_feed_tail_without_ack_on_the_embedded_default(tmp_path: Path, clock: Any) -> None:
    """The README's trial: ``feed tail ddsp-31`` on the zero-install default shows the
    sheets relayed to the feed (read from the outbox), and leaves the feed its messages."""
    service = "ggd-31"
    from intake_service import create_app
    from intake_service.platform.config import Config
    from tests.factories import a_sheet, create_tokens
    from workers.relay import Relay

    env = {"PATH": str(Path(sys.executable).parent), "INSTANCE_PATH": str(tmp_path)}
    subprocess.run([CLI, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    config = Config.from_env({"INSTANCE_PATH": str(tmp_path)})
    assert config.embedded_broker
    tail_run = subprocess.Popen(
        [CLI, "feed", "tail", service, "--count", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    app = create_app(config, clock=clock)
    db = app.extensions["intake.db"]
    try:
        assert tail_run.stderr is not None
        assert "listening on" in tail_run.stderr.readline()
        headers = create_tokens(db, clock.now)["operator"]
        created = app.test_client().post(
            "/api/v1/incidents", json=a_sheet("EMBEDDED-TAIL"), headers=headers
        )
        assert created.status_code == 201, created.get_json()
        # No police-zone table here: Toulouse goes to the gendarmerie, by guess.
        assert created.get_json()["competent_service"]["code"] == service
        relay = Relay(db, config.broker_url)
        try:
            assert relay.relay_batch() >= 1
        finally:
            relay._reset()
        out, _ = tail_run.communicate(timeout=30)
    finally:
        tail_run.kill()
        db.dispose()
    (line,) = out.splitlines()
    assert "incident.submitted" in line
    assert created.get_json()["id"] in line
    # The feed kept its message for the command centre's own consumer.
    connection = connect(config.broker_url)
    try:
        assert feed_queue(service)(connection.default_channel).queue_declare().message_count == 1
    finally:
        connection.release()
