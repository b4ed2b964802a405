"""Shared fixtures: the real services, a migrated database per backend, a controllable clock.

Integration tests run on the embedded SQLite and on the machine's real
PostgreSQL. When a server cannot be reached, its tests are skipped locally and
fail under ``CI=true``: CI must never go green without them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from intake_service import create_app
from intake_service.models import Base
from intake_service.platform.config import Config
from intake_service.platform.db import Database
from intake_service.platform.migrate import upgrade

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _shared_dir() -> Path:
    """The project's shared notes and data: ``SHARED_DIR``, else ``../shared`` of the repo."""
    if os.environ.get("SHARED_DIR"):
        return Path(os.environ["SHARED_DIR"])
    beside = Path(__file__).resolve().parents[2] / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


# The real Tisséo GTFS feed, read in place (never copied into the repository).
TISSEO_GTFS = _shared_dir() / "data" / "gtfs" / "toulouse-tisseo"


def pytest_sessionstart(session: pytest.Session) -> None:
    if IN_CI and not TISSEO_GTFS.is_dir():
        raise pytest.UsageError(
            f"the real GTFS feed is not at {TISSEO_GTFS}: set SHARED_DIR to the shared folder."
        )


# A Saturday evening in Toulouse; the example sheets are written around it.
REFERENCE_INSTANT = dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (in CI) when a real service is down."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it (.ci/run starts it).", pytrace=False)
    pytest.skip(message)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(REFERENCE_INSTANT)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "intake.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this test worker on the real PostgreSQL, migrated with Alembic."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"intake_test_{_worker()}_{os.getpid()}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        # The audit log refuses TRUNCATE (append-only trigger); tests, as superuser,
        # switch ordinary triggers off for this one statement.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each integration test runs once on SQLite and once on real PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "intake.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate(url)
    return url


def app_config(database_url: str, instance_path: Path, **overrides: Any) -> Config:
    """The settings of a test app: production-like (not embedded), no broker unless given."""
    return Config(
        instance_path=instance_path,
        database_url=database_url,
        broker_url="memory://",
        redis_url=None,
        secret_key="test-secret",
        embedded=False,
    ).with_overrides(overrides)


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return app_config(database_url, tmp_path / "instance")


@pytest.fixture
def app(config: Config, clock: Clock) -> Iterator[Any]:
    application = create_app(config, clock=clock)
    yield application
    application.extensions["intake.db"].dispose()


@pytest.fixture
def pg_app(postgres_database: str, tmp_path: Path, clock: Clock) -> Iterator[Any]:
    """The app on the real PostgreSQL only (races, faults), on an emptied database."""
    _truncate(postgres_database)
    application = create_app(app_config(postgres_database, tmp_path), clock=clock)
    yield application
    application.extensions["intake.db"].dispose()


@pytest.fixture
def db(app: Any) -> Database:
    database: Database = app.extensions["intake.db"]
    return database
