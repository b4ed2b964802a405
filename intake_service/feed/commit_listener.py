"""Wakes the relay when an event is committed (PostgreSQL ``LISTEN outbox``), so it does
not wait for its next poll; on SQLite, or when the connection drops, it polls.

Behind a pooler in transaction mode LISTEN goes to ``DATABASE_DIRECT_URL`` (the server
itself): through the pooler, the server connection that listened is handed to other
clients and its notifications reach nobody. Without a direct URL there, it polls.
"""

from __future__ import annotations

import threading

import psycopg
from sqlalchemy.engine import make_url

from intake_service.feed.outbox import NOTIFY_CHANNEL, log
from intake_service.platform.db import Database


class CommitListener:
    """Waits for ``NOTIFY outbox`` on PostgreSQL; a plain timed wait elsewhere."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.connection: psycopg.Connection[tuple[object, ...]] | None = None
        # Behind a pooler with nowhere to listen: said once, at the first wait.
        self.started = False

    def _connect(self) -> None:
        listen_url = self.db.listen_url
        if listen_url is None or self.connection is not None:
            return
        url = make_url(listen_url).set(drivername="postgresql")
        self.connection = psycopg.connect(
            url.render_as_string(hide_password=False), autocommit=True
        )
        self.connection.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """Wait up to ``timeout``; True when woken by a commit (always False when polling)."""
        if not self.started:
            self.started = True
            if self.db.listen_url is None and not self.db.is_sqlite:
                log.warning(
                    "DATABASE_POOLER=%s and no DATABASE_DIRECT_URL: polling the outbox "
                    "every %.2g s instead of listening for commits; set DATABASE_DIRECT_URL "
                    "to the PostgreSQL server itself (not the pooler) to be woken at once",
                    self.db.pooler,
                    timeout,
                )
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
