"""Reachability checks of the database and the broker (for ``/readyz`` and the CLI)."""

from __future__ import annotations

from kombu import Connection
from sqlalchemy import text

from intake_service.platform.db import Database


def check_database(db: Database) -> str:
    """'ok', or why the database cannot be reached."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as text
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def check_broker(url: str) -> str:
    """'ok', or why the broker cannot be reached."""
    try:
        with Connection(url, connect_timeout=2, transport_options={"max_retries": 0}) as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=2
            )
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as text
        return f"unreachable: {type(exc).__name__}"
    return "ok"
