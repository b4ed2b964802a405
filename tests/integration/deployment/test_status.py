"""``intake-service status``: the deployment on one screen, and an exit code scripts can use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from click.testing import CliRunner

from intake_service.cli import main
from intake_service.deployment import status
from intake_service.models import EmailMessage
from intake_service.platform.db import Database
from tests.brokers import drop_namespace, fresh_namespace
from tests.conftest import REDIS_URL, _truncate, require_service


def test_status_reports_and_needs_a_live_relay(postgres_database: str) -> None:
    require_service("Redis", "127.0.0.1", 6379)
    _truncate(postgres_database)
    namespace = fresh_namespace()
    env = {
        "DATABASE_URL": postgres_database,
        "BROKER_URL": REDIS_URL,
        "SECRET_KEY": "x",
        "BROKER_NAMESPACE": namespace,
    }
    runner = CliRunner()
    silent = runner.invoke(main, ["status"], env=env)
    assert silent.exit_code == 1  # no relay has reported
    assert silent.output.splitlines()[0].startswith("database  ok")
    assert "broker    ok" in silent.output
    assert "outbox    0 waiting" in silent.output
    assert "none has reported" in silent.output

    assert f"{namespace}.internal.linker 0" in silent.output
    assert f"{namespace}.internal.appointments.parked 0" in silent.output
    assert "emails    0 waiting to be sent, 0 failed" in silent.output

    database = Database(postgres_database)
    now = dt.datetime.now(dt.UTC)
    with database.transaction() as session:
        status.beat(session, "relay", started_at=now, now=now)
        for state in ("pending", "failed", "sent"):
            session.add(
                EmailMessage(
                    kind="booked",
                    recipients=["referent@tisseo.example"],
                    subject="Rendez-vous",
                    body="…",
                    state=state,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    database.dispose()
    try:
        alive = runner.invoke(main, ["status"], env=env)
    finally:
        drop_namespace(REDIS_URL, namespace)
    assert alive.exit_code == 0, alive.output  # a failed email needs a person, not a restart
    assert "relay" in alive.output
    assert "emails    1 waiting to be sent, 1 failed (see the station page)" in alive.output
    assert "requests  0 staff victims waiting" in alive.output
    assert alive.output.splitlines()[-1].endswith(" ok")


def test_status_says_when_the_database_is_down() -> None:
    env: dict[str, Any] = {
        "DATABASE_URL": "postgresql://127.0.0.1:1/none",
        "BROKER_URL": "redis://127.0.0.1:1/0",
        "SECRET_KEY": "x",
    }
    result = CliRunner().invoke(main, ["status"], env=env)
    assert result.exit_code == 1
    assert "unreachable" in result.output


def test_status_names_the_communes_no_station_covers(app: Any, db: Database, clock: Any) -> None:
    from tests.integration.appointments.test_booking import book, setup, submit

    headers = setup(db, clock, with_stations=False)
    for reference in ("NOSTATION-1", "NOSTATION-2"):
        assert book(db, submit(app, headers, reference), clock.now) == [(0, "waiting")]
    with db.transaction() as session:
        waiting = status.read_status(session, clock.now)
    assert waiting.requests_waiting == 2
    assert waiting.requests_without_station == [("31555", 2)]


class _Idle:
    """A worker doing nothing until it is told to stop."""

    name = "relay"

    def run(self, stop: Any) -> None:
        stop.wait()


def test_a_worker_health_check_and_a_clean_stop_said_as_such(postgres_database: str) -> None:
    import threading
    import time

    from workers.runner import run_workers

    _truncate(postgres_database)
    env = {"DATABASE_URL": postgres_database, "BROKER_URL": REDIS_URL, "SECRET_KEY": "x"}
    runner = CliRunner()
    none = runner.invoke(main, ["status", "--worker", "relay"], env=env)
    assert none.exit_code == 1
    assert "no process on this host has reported" in none.output

    database = Database(postgres_database)
    stop = threading.Event()
    running = threading.Thread(target=run_workers, args=([_Idle()], stop, database))
    running.start()
    try:
        deadline = time.monotonic() + 10
        while (beating := runner.invoke(main, ["status", "--worker", "relay"], env=env)).exit_code:
            assert time.monotonic() < deadline, beating.output
            time.sleep(0.2)
        assert " ok" in beating.output
    finally:
        stop.set()
        running.join(timeout=40)
    stopped = runner.invoke(main, ["status", "--worker", "relay"], env=env)
    assert stopped.exit_code == 1
    assert stopped.output.strip().endswith("stopped")
    overview = runner.invoke(main, ["status"], env=env)
    assert "stopped" in overview.output
    assert "SILENT" not in overview.output  # a clean stop is not a crash
    other = runner.invoke(main, ["status", "--worker", "linker"], env=env)
    assert other.exit_code == 1
    database.dispose()
