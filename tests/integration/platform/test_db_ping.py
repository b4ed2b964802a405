"""Pooled connections are pinged after a quiet spell, not on every checkout (``db``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from intake_service.platform import db as db_module
from intake_service.platform.db import Database


@pytest.fixture
def database(postgres_database: str) -> Iterator[Database]:
    database = Database(postgres_database, pool_size=1, max_overflow=0)
    yield database
    database.dispose()


def _backend(database: Database) -> int:
    with database.reading() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    time.sleep(0.1)


def test_an_idle_connection_killed_by_the_server_is_replaced_unseen(
    database: Database, postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.05)
    first = _backend(database)
    _terminate(postgres_database, first)
    time.sleep(0.1)  # idle longer than the threshold: pinged, found dead, replaced
    assert _backend(database) != first


def test_a_busy_connection_is_not_pinged_and_a_dead_one_fails_once(
    database: Database, postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600)
    pings: list[object] = []
    monkeypatch.setattr(
        database.engine.dialect, "do_ping", lambda connection: pings.append(connection)
    )
    first = _backend(database)
    for _ in range(5):
        assert _backend(database) == first
    assert pings == []  # no round trip before each use
    _terminate(postgres_database, first)
    with pytest.raises(OperationalError):
        _backend(database)  # the request that finds out answers 503 (see test_readiness)
    assert _backend(database) != first  # the pool was renewed
