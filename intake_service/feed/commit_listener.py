"""Wakes the relay when an event is committed (PostgreSQL ``LISTEN outbox``), so it does
not wait for its next poll; on SQLite, or when the connection drops, it polls.
"""

from __future__ import annotations

import threading

import psycopg

from intake_service.feed.outbox import NOTIFY_CHANNEL, log
from intake_service.platform.db import Database


class CommitListener:
    """Waits for ``NOTIFY outbox`` on PostgreSQL; a plain timed wait elsewhere."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.connection: psycopg.Connection[tuple[object, ...]] | None = None

    def _connect(self) -> None:
        if self.db.is_sqlite or self.connection is not None:
            return
        url = self.db.engine.url.set(drivername="postgresql")
        self.connection = psycopg.connect(
            url.render_as_string(hide_password=False), autocommit=True
        )
        self.connection.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """Wait up to ``timeout``; True when woken by a commit (always False when polling)."""
        try:
            self._connect()
        except psycopg.Error as exc:
            log.warning("cannot listen for outbox commits (%s); polling", type(exc).__name__)
        if self.connection is None:
            stop.wait(timeout)
            return False
        try:
            for _ in self.connection.notifies(timeout=timeout, stop_after=1):
                return True
        except psycopg.Error:
            self.close()
            stop.wait(timeout)
        return False

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
