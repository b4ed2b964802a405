"""Alembic, driven from code: the migrations ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def alembic_config(database_url: str, pooler: str = "none") -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    # Read by env.py: through a transaction pooler, no statement is prepared.
    config.set_main_option("database_pooler", pooler)
    return config


def upgrade(database_url: str, revision: str = "head", *, pooler: str = "none") -> None:
    """Migrate ``database_url`` (``Config.migration_target``: the server itself when
    DATABASE_DIRECT_URL is set). All migrations run in one transaction, so they pass
    a transaction pooler too: they take no advisory lock and set nothing per session."""
    command.upgrade(alembic_config(database_url, pooler), revision)


def current_revision(database_url: str, pooler: str = "none") -> str | None:
    from alembic.runtime.migration import MigrationContext

    from intake_service.platform.db import Database

    database = Database(database_url, pooler=pooler)
    try:
        with database.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        database.dispose()
