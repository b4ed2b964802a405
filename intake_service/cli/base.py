"""What every command group shares: the ``main`` group, the configuration, one
transaction on the configured database with its errors explained, and ``fail``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from intake_service.platform.config import Config, ConfigError
from intake_service.platform.db import Database


def fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(2)


def read_config() -> Config:
    try:
        return Config.from_env()
    except ConfigError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction on the configured database, with errors explained."""
    config = read_config()
    if config.embedded:
        config.instance_path.mkdir(parents=True, exist_ok=True)
    database = Database.from_config(config)
    try:
        with database.transaction() as session:
            yield session
    except OperationalError as exc:
        if "no such table" in str(exc.orig):
            fail("the database is not ready: run `intake-service db upgrade` first.")
        fail(
            f"cannot reach the database ({type(exc.orig).__name__}): check DATABASE_URL "
            "and that the server runs."
        )
    except ProgrammingError as exc:
        fail(f"the database is not ready ({exc.orig}): run `intake-service db upgrade` first.")
    finally:
        database.dispose()


@click.group()
def main() -> None:
    """Administer the GPO transports incident intake service.

    Settings come from the environment (DATABASE_URL, BROKER_URL, REDIS_URL,
    SECRET_KEY); with no DATABASE_URL the embedded SQLite database is used.
    """
