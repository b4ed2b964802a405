"""Behind a real PgBouncer in transaction pooling mode (``DATABASE_POOLER=transaction``):
no prepared statement, LISTEN on the server itself (``DATABASE_DIRECT_URL``) or polling,
migrations on the server when it is given.

Each server connection of the pooler serves one client transaction after another:
what a connection keeps between transactions (prepared statements, LISTEN) is lost.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Integer, bindparam, create_engine, func, select, text
from sqlalchemy.engine import make_url

from intake_service import create_app
from intake_service.cli import main
from intake_service.models import OutboxEvent
from intake_service.platform.db import Database
from intake_service.platform.migrate import alembic_config
from intake_service.web.live import LiveHub
from tests.brokers import broker_url
from tests.conftest import POSTGRES_URL, _truncate, app_config, require_service
from tests.factories import create_tokens, submit_in_toulouse
from tests.pgbouncer import pgbouncer_port, through_pooler
from workers.relay import Relay

__all__ = ["pgbouncer_port"]  # the fixture, used by name

THREADS = 4
RUNS_PER_THREAD = 50  # well past psycopg's prepare_threshold (5) on every connection


@pytest.fixture
def direct_url(postgres_database: str) -> str:
    _truncate(postgres_database)
    return postgres_database


@pytest.fixture
def pooled_url(direct_url: str, pgbouncer_port: int) -> str:
    return through_pooler(direct_url, pgbouncer_port)


def _repeat_in_threads(database: Database) -> list[str]:
    """The same parametrised query, RUNS_PER_THREAD times on each of THREADS threads."""
    query = select(bindparam("n", type_=Integer) + 1)
    errors: list[str] = []

    def run(_: int) -> None:
        for n in range(RUNS_PER_THREAD):
            try:
                with database.transaction() as session:
                    assert session.execute(query, {"n": n}).scalar_one() == n + 1
            except Exception as exc:  # noqa: BLE001 - counted, and shown by the assertions
                errors.append(str(getattr(exc, "orig", exc)).splitlines()[0])

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(run, range(THREADS)))
    return errors


def test_without_the_pooler_setting_psycopg_prepared_statements_break_through_pgbouncer(
    pooled_url: str,
) -> None:
    """Why DATABASE_POOLER exists: psycopg prepares a query run a sixth time on a
    connection, and the next transaction may get another server connection."""
    database = Database(pooled_url, pool_size=THREADS, max_overflow=0)
    try:
        errors = _repeat_in_threads(database)
    finally:
        database.dispose()
    assert errors, "expected prepared-statement errors through PgBouncer"
    assert all("prepared statement" in error for error in errors), set(errors)


def test_in_transaction_pooler_mode_no_statement_is_prepared(pooled_url: str) -> None:
    database = Database(pooled_url, pooler="transaction", pool_size=THREADS, max_overflow=0)
    try:
        errors = _repeat_in_threads(database)
    finally:
        database.dispose()
    assert errors == []


@pytest.mark.parametrize("pooler", ["none", "transaction"])
def test_fifty_sheets_submitted_through_pgbouncer(
    pooler: str, pooled_url: str, direct_url: str, tmp_path: Path, clock: Any
) -> None:
    """The app's own statements (one composed INSERT per sheet, reused), from threads."""
    config = app_config(
        pooled_url, tmp_path, database_pooler=pooler, database_direct_url=direct_url
    )
    app = create_app(config, clock=clock)
    # Set up on the server itself: through the pooler, without the setting, this could
    # already fail (earlier clients' prepared statements stay on the server connections).
    setup = Database(direct_url)
    headers = create_tokens(setup, clock.now)
    setup.dispose()
    try:

        def submit(index: int) -> int:
            client = app.test_client()
            try:
                submit_in_toulouse(client, headers, f"PGB-{index}")
            except AssertionError:
                return 1
            return 0

        with ThreadPoolExecutor(5) as pool:
            failures = sum(pool.map(submit, range(50)))
    finally:
        app.extensions["intake.db"].dispose()
    if pooler == "none":
        assert failures > 0  # prepared statements found on another server connection, or none
    else:
        assert failures == 0
        engine = create_engine(direct_url)
        with engine.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(OutboxEvent.__table__))
        engine.dispose()
        assert count == 50


def test_a_streamed_read_in_one_transaction_survives_transaction_pooling(
    pooled_url: str,
) -> None:
    """``yield_per`` (the CSV export) is a named server-side cursor: it lives as long as
    its transaction, which keeps its one server connection."""
    database = Database(pooled_url, pooler="transaction", pool_size=1, max_overflow=0)
    try:
        with database.reading() as session:
            rows = session.execute(
                text("SELECT n FROM generate_series(1, 5000) AS n").execution_options(yield_per=100)
            )
            assert sum(n for (n,) in rows) == 5000 * 5001 // 2
    finally:
        database.dispose()


def _listening_sessions(direct_url: str) -> int:
    engine = create_engine(direct_url)
    with engine.connect() as connection:
        count = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query = 'LISTEN outbox'"
                " AND pid <> pg_backend_pid()"
            )
        )
    engine.dispose()
    return int(count or 0)


def _wait_until(condition: Any, seconds: float) -> float:
    """How long ``condition()`` took to hold; fails after ``seconds``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "timed out"
        time.sleep(0.05)
    return time.monotonic() - started


def _unsent(direct_url: str) -> int:
    engine = create_engine(direct_url)
    with engine.connect() as connection:
        count = connection.scalar(
            select(func.count())
            .select_from(OutboxEvent.__table__)
            .where(OutboxEvent.__table__.c.sent_at.is_(None))
        )
    engine.dispose()
    return int(count or 0)


@pytest.fixture
def submit(pooled_url: str, direct_url: str, tmp_path: Path, clock: Any) -> Iterator[Any]:
    """Submit a sheet through the pooler (its event's NOTIFY comes at commit)."""
    app = create_app(
        app_config(
            pooled_url, tmp_path, database_pooler="transaction", database_direct_url=direct_url
        ),
        clock=clock,
    )
    headers = create_tokens(app.extensions["intake.db"], clock.now)
    client = app.test_client()
    yield lambda: submit_in_toulouse(client, headers, f"PGB-{uuid.uuid4().hex[:8]}")
    app.extensions["intake.db"].dispose()


def _run_relay(database: Database, poll_seconds: float) -> tuple[Relay, threading.Event, Any]:
    relay = Relay(database, broker_url("redis"), poll_seconds=poll_seconds)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    return relay, stop, thread


def test_the_relay_behind_pgbouncer_listens_on_the_direct_url_and_is_woken(
    pooled_url: str, direct_url: str, submit: Any
) -> None:
    database = Database(pooled_url, direct_url=direct_url, pooler="transaction")
    relay, stop, thread = _run_relay(database, poll_seconds=30.0)
    try:
        _wait_until(lambda: _listening_sessions(direct_url) == 1, 10)
        assert relay.listener.connection is not None
        assert relay.listener.connection.info.port == (make_url(direct_url).port or 5432)
        submit()
        took = _wait_until(lambda: _unsent(direct_url) == 0, 10)
        assert took < 5  # woken by NOTIFY, not by its poll 30 s later
    finally:
        stop.set()
        thread.join(10)
        database.dispose()


def test_the_relay_behind_pgbouncer_without_a_direct_url_polls_and_says_so(
    pooled_url: str, direct_url: str, submit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    database = Database(pooled_url, pooler="transaction")
    relay, stop, thread = _run_relay(database, poll_seconds=1.0)
    try:
        _wait_until(lambda: "DATABASE_DIRECT_URL" in caplog.text, 10)
        submit()
        _wait_until(lambda: _unsent(direct_url) == 0, 10)  # at its next poll
        time.sleep(2.5)  # two more polls: still one warning
        assert relay.listener.connection is None
        assert _listening_sessions(direct_url) == 0
    finally:
        stop.set()
        thread.join(10)
        database.dispose()
    warnings = [r for r in caplog.records if "DATABASE_DIRECT_URL" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


def test_listen_through_the_transaction_pooler_is_never_woken(
    pooled_url: str, direct_url: str
) -> None:
    """Why the relay must not LISTEN through the pooler: the server connection that
    listened goes back to the pool, and its notifications reach no client."""
    listener = psycopg.connect(
        make_url(pooled_url).set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    )
    try:
        listener.execute("LISTEN outbox")
        with psycopg.connect(
            make_url(direct_url).set(drivername="postgresql").render_as_string(hide_password=False),
            autocommit=True,
        ) as notifier:
            notifier.execute("NOTIFY outbox")
        assert list(listener.notifies(timeout=2, stop_after=1)) == []
    finally:
        listener.close()


def test_live_pages_behind_pgbouncer_listen_on_the_direct_url(
    pooled_url: str, direct_url: str, submit: Any
) -> None:
    database = Database(pooled_url, direct_url=direct_url, pooler="transaction")
    hub = LiveHub(database, poll_seconds=30.0)
    try:
        generation = hub.current()
        hub._ensure_started()
        _wait_until(lambda: _listening_sessions(direct_url) == 1, 10)
        submit()
        started = time.monotonic()
        assert hub.wait(generation, 10) != generation
        assert time.monotonic() - started < 5  # woken at commit, not at its 30 s poll
    finally:
        hub.stop.set()
        database.dispose()


def test_live_pages_behind_pgbouncer_without_a_direct_url_poll_and_say_so(
    pooled_url: str, direct_url: str, submit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    database = Database(pooled_url, pooler="transaction")
    hub = LiveHub(database, poll_seconds=0.25)
    try:
        generation = hub.current()
        hub._ensure_started()
        _wait_until(lambda: "DATABASE_DIRECT_URL" in caplog.text, 10)
        submit()
        assert hub.wait(generation, 10) != generation  # seen at a poll
        assert _listening_sessions(direct_url) == 0
    finally:
        hub.stop.set()
        database.dispose()


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database of its own, to migrate."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"intake_pgb_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _db_upgrade(env: dict[str, str], tmp_path: Path) -> Any:
    env = {"INSTANCE_PATH": str(tmp_path), "BROKER_URL": "memory://", "SECRET_KEY": "x", **env}
    return CliRunner().invoke(main, ["db", "upgrade"], env=env, catch_exceptions=False)


HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_db_upgrade_in_pooler_mode_runs_on_the_direct_url(
    fresh_database: str, tmp_path: Path
) -> None:
    closed_port = make_url(through_pooler(fresh_database, 1))  # nothing listens on port 1
    result = _db_upgrade(
        {
            "DATABASE_URL": closed_port.render_as_string(hide_password=False),
            "DATABASE_DIRECT_URL": fresh_database,
            "DATABASE_POOLER": "transaction",
        },
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    assert f"database at revision {HEAD}" in result.output


def test_db_upgrade_through_pgbouncer_without_a_direct_url(
    fresh_database: str, pgbouncer_port: int, tmp_path: Path
) -> None:
    result = _db_upgrade(
        {
            "DATABASE_URL": through_pooler(fresh_database, pgbouncer_port),
            "DATABASE_POOLER": "transaction",
        },
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    assert f"database at revision {HEAD}" in result.output
