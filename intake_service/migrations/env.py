"""Alembic environment: migrates the database of ``DATABASE_URL`` (or the embedded one)."""

from __future__ import annotations

from alembic import context

from intake_service.models import Base  # through models: every table is in its metadata
from intake_service.platform.config import Config
from intake_service.platform.db import Database

config = context.config
if config.get_main_option("sqlalchemy.url"):
    url = config.get_main_option("sqlalchemy.url") or ""
    pooler = config.get_main_option("database_pooler") or "none"
else:
    url, pooler = Config.from_env().migration_target
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    database = Database(url, pooler=pooler)
    try:
        with database.engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=database.is_sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        database.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
