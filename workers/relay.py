"""The outbox relay: publishes committed events to the command-centre feed.

Claims a batch of unsent events (``FOR UPDATE SKIP LOCKED``: several relays
share the work), publishes each with the broker's confirm where it has one,
then marks them sent in the same transaction. Killed mid-batch, it loses
nothing: the batch was not marked sent and is published again (consumers drop
duplicates by event id). Woken at once by PostgreSQL ``NOTIFY`` on commit;
polls as a safety net, and on SQLite.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from kombu import Connection

from intake_service.deployment import metrics
from intake_service.feed import outbox
from intake_service.feed.commit_listener import CommitListener
from intake_service.feed.tail import prune_dead_taps
from intake_service.feed.topology import FeedPublisher, connect
from intake_service.platform.clock import utc_now
from intake_service.platform.db import Database

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 5.0
REDECLARE_SECONDS = 5.0


class Relay:
    name = "relay"

    def __init__(
        self,
        db: Database,
        broker_url: str,
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.5,
        clock: Callable[[], dt.datetime] = utc_now,
        namespace: str = "",
    ) -> None:
        self.db = db
        self.broker_url = broker_url
        self.namespace = namespace
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.connection: Connection | None = None
        self.publisher: FeedPublisher | None = None
        self.listener = CommitListener(db)
        self.declared_at = 0.0
        # The outbox position being published, to record why it failed.
        self.publishing: int | None = None

    def _publisher(self) -> FeedPublisher:
        if self.publisher is None:
            self.connection = connect(self.broker_url)
            self.connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            self.publisher = FeedPublisher(self.connection, self.namespace)
        return self.publisher

    def _reset(self) -> None:
        if self.connection is not None:
            try:
                self.connection.release()
            except Exception:
                log.debug("relay: closing a broken connection failed", exc_info=True)
        self.connection = None
        self.publisher = None

    def relay_batch(self) -> int:
        """Publish one batch of unsent events; return how many were sent."""
        publisher = self._publisher()
        # Declared again now and then: a broker that lost its bindings while the
        # connection stayed up (a Redis FLUSHALL) would otherwise drop messages
        # silently. A restarted broker drops the connection, and a new one declares
        # everything before its first publish.
        if time.monotonic() - self.declared_at > REDECLARE_SECONDS:
            publisher.declared.clear()
            self.declared_at = time.monotonic()
            self._prune_dead_taps()
        with self.db.transaction() as session:
            events = outbox.claim_unsent(session, self.batch_size)
            now = self.clock()
            for event in events:
                self.publishing = event.position
                publisher.publish(
                    event.envelope,
                    service_code=event.service_code,
                    priority=event.priority,
                    headers={"request_id": event.request_id} if event.request_id else None,
                )
                log.info(
                    "relay: published %s %s",
                    event.event_type,
                    event.event_id,
                    extra={"request_id": event.request_id, "incident_id": event.incident_id},
                )
                metrics.RELAYED.labels(event.event_type).inc()
            self.publishing = None
            outbox.mark_sent(session, [event.position for event in events], now)
            outbox.mark_queued(
                session,
                [event.incident_id for event in events if event.event_type == "incident.submitted"],
                now,
            )
            return len(events)

    def _prune_dead_taps(self) -> None:
        """Taps of ``feed tail`` runs killed on Redis would fill up with the feed's messages."""
        assert self.connection is not None
        try:
            pruned = prune_dead_taps(self.connection, self.namespace)
        except Exception as exc:  # noqa: BLE001 - housekeeping must never stop the relay
            log.warning("relay: could not prune dead taps (%s: %s)", type(exc).__name__, exc)
            return
        for queue in pruned:
            log.info("relay: removed the tap queue %s of a feed tail that died", queue)

    def _record_failure(self, error: Exception) -> None:
        """Note on the event that failed why, so a stuck outbox says what blocks it."""
        position, self.publishing = self.publishing, None
        if position is None:
            return
        try:
            with self.db.transaction() as session:
                outbox.record_failure(session, position, f"{type(error).__name__}: {error}")
        except Exception:  # the database may be what failed: keep relaying
            log.debug("relay: could not record the failure", exc_info=True)

    def run(self, stop: threading.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            try:
                sent = self.relay_batch()
            except Exception as exc:  # noqa: BLE001 - broker or database down: retry, never die
                log.warning("relay: batch failed (%s: %s); retrying", type(exc).__name__, exc)
                self._record_failure(exc)
                self._reset()
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 0.1
            if sent < self.batch_size:
                self.listener.wait(self.poll_seconds, stop)
        self.listener.close()
        self._reset()
