"""``intake-service db``: migrate the database."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from intake_service.cli.base import fail, main, read_config
from intake_service.platform import migrate


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations (PostgreSQL or SQLite)."""
    config = read_config()
    if config.embedded:
        config.instance_path.mkdir(parents=True, exist_ok=True)
    # The server itself when DATABASE_DIRECT_URL is set (past the pooler, if any).
    url, pooler = config.migration_target
    setting = "DATABASE_DIRECT_URL" if config.database_direct_url else "DATABASE_URL"
    try:
        migrate.upgrade(url, revision, pooler=pooler)
    except OperationalError as exc:
        fail(f"cannot reach the database ({type(exc.orig).__name__}): check {setting}.")
    click.echo(f"database at revision {migrate.current_revision(url, pooler=pooler)}")
