"""The service's own consumers of incident events: each applies an event exactly once.

Delivery is at least once (a relay killed before marking an event sent publishes
it again; a consumer killed before its ack gets the message again). Each
consumer therefore records the event ids it applied (``applied_events``) in the
same transaction as the effect: the record and the effect commit together or not
at all, and a second delivery finds the record and changes nothing. The message
is acknowledged only after that commit.

A handler receives the session and the envelope; it should read the incident's
current state from the database rather than trust the payload, since events of
one incident may arrive out of order.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from kombu import Connection, Consumer, Producer
from kombu.message import Message
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from intake_service.deployment import metrics
from intake_service.feed.topology import (
    CONTENT_TYPE,
    REDIS_VISIBILITY_SECONDS,
    connect,
    internal_queue,
    parked_queue,
)
from intake_service.models import AppliedEvent, ConsumerFailure
from intake_service.platform.clock import utc_now
from intake_service.platform.db import Database

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 5.0
MAX_ATTEMPTS = 5
# A failure count older than this is forgotten (its message succeeded, or was parked).
FAILURES_KEPT = dt.timedelta(days=1)

Handler = Callable[[Session, Mapping[str, Any]], None]


def apply_once(
    db: Database, consumer: str, envelope: Mapping[str, Any], handler: Handler, now: dt.datetime
) -> bool:
    """Apply ``envelope`` with ``handler`` unless ``consumer`` already did; True if applied.

    The applied-event record is written first, in the handler's transaction: a
    concurrent copy of the same event waits on it and then finds it.
    """
    event_id = str(envelope["id"])
    try:
        with db.transaction() as session:
            done = session.scalar(
                select(AppliedEvent.event_id).where(
                    AppliedEvent.consumer == consumer, AppliedEvent.event_id == event_id
                )
            )
            if done is not None:
                return False
            session.add(AppliedEvent(consumer=consumer, event_id=event_id, applied_at=now))
            try:
                session.flush()
            except IntegrityError:
                # Another copy of this event committed between the select and the insert.
                session.rollback()
                return False
            handler(session, envelope)
    except IntegrityError:
        # Raised at commit: on some databases the duplicate record is only seen then.
        with db.reading() as session:
            if session.get(AppliedEvent, (consumer, event_id)) is not None:
                return False
        raise
    return True


class EventConsumer:
    """Consumes ``internal.<name>`` and applies each event once, then acknowledges it."""

    def __init__(
        self,
        name: str,
        db: Database,
        broker_url: str,
        handler: Handler,
        *,
        prefetch: int = 20,
        clock: Callable[[], dt.datetime] = utc_now,
        namespace: str = "",
        visibility_timeout: float = REDIS_VISIBILITY_SECONDS,
    ) -> None:
        self.name = name
        self.namespace = namespace
        self.visibility_timeout = visibility_timeout
        self.db = db
        self.broker_url = broker_url
        self.handler = handler
        self.prefetch = prefetch
        self.clock = clock
        self.applied = 0
        self.duplicates = 0
        # Failures counted here when the database could not count them (see _guarded).
        self.failures: Counter[str] = Counter()

    def on_message(self, body: Any, message: Message) -> None:
        try:
            envelope = json.loads(body) if isinstance(body, str | bytes) else body
            event_id = envelope["id"]
        except (ValueError, TypeError, KeyError):
            self._park(message, "not an event envelope")
            return
        applied = apply_once(self.db, self.name, envelope, self.handler, self.clock())
        if applied:
            self.applied += 1
        else:
            self.duplicates += 1
        metrics.CONSUMER_EVENTS.labels(self.name, "applied" if applied else "duplicate").inc()
        log.info(
            "%s: %s %s %s",
            self.name,
            "applied" if applied else "already applied",
            envelope.get("type"),
            event_id,
            extra={"request_id": (message.headers or {}).get("request_id")},
        )
        message.ack()

    def _consume(self, connection: Connection, stop: threading.Event) -> None:
        channel = connection.channel()
        consumer = Consumer(
            channel,
            queues=[internal_queue(self.name, self.namespace)],
            callbacks=[self._guarded],
            accept=[CONTENT_TYPE, "json"],
            on_decode_error=lambda message, error: self._park(message, f"undecodable: {error}"),
        )
        consumer.qos(prefetch_count=self.prefetch)
        with consumer:
            while not stop.is_set():
                try:
                    connection.drain_events(timeout=0.5)
                except TimeoutError:
                    continue
                if self._failed is not None:
                    error, self._failed = self._failed, None
                    raise error

    _failed: Exception | None = None

    def _park(self, message: Message, reason: str) -> None:
        """Move a message that can never be applied to the parking queue, then ack it.

        Requeued, it would come back for ever and hold up the events behind it.
        """
        parked = parked_queue(self.name, self.namespace)
        channel = message.channel
        parked(channel).declare()
        Producer(channel).publish(
            message.body,
            exchange="",
            routing_key=parked.name,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            headers={**(message.headers or {}), "parked_reason": reason[:500]},
            delivery_mode=2,
            retry=False,
        )
        message.ack()
        metrics.CONSUMER_EVENTS.labels(self.name, "parked").inc()
        log.error("%s: parked a message in %s: %s", self.name, parked.name, reason)

    def _guarded(self, body: Any, message: Message) -> None:
        """Apply; on failure give the message back (nothing was committed) and reconnect.

        A database or broker outage is waited out, however long. Any other error
        is the message's own (or a bug): after MAX_ATTEMPTS it is parked.
        """
        try:
            self.on_message(body, message)
        except Exception as exc:  # noqa: BLE001 - decided below: retry or park
            metrics.CONSUMER_EVENTS.labels(self.name, "failed").inc()
            # Outages are waited out; a message that breaks a constraint or a type
            # (DataError, IntegrityError...) fails the same way every time.
            transient = isinstance(exc, OperationalError | InterfaceError | OSError)
            # The relay sets the event id as message id; redeliveries keep it.
            key = str(message.properties.get("message_id") or hash(str(body)))[:64]
            if not transient and self._count_failure(key) >= MAX_ATTEMPTS:
                self._forget_failures(key)
                self._park(message, f"failed {MAX_ATTEMPTS} times: {type(exc).__name__}: {exc}")
                return
            log.warning(
                "%s: applying failed (%s: %s); requeued", self.name, type(exc).__name__, exc
            )
            try:
                message.requeue()
            except Exception:  # the broker connection is gone: redelivered anyway
                log.debug("%s: requeue failed", self.name, exc_info=True)
            self._failed = exc

    def _count_failure(self, key: str) -> int:
        """One more failure of message ``key``, counted in the database where every
        instance of this consumer sees it; in this process if the database fails too."""
        now = self.clock()
        for _ in range(2):  # a concurrent first failure may insert the row first
            try:
                with self.db.transaction() as session:
                    row = session.get(ConsumerFailure, (self.name, key), with_for_update=True)
                    if row is None:
                        row = ConsumerFailure(
                            consumer=self.name, message_id=key, failures=0, updated_at=now
                        )
                        session.add(row)
                    row.failures += 1
                    row.updated_at = now
                    session.flush()
                    # Counts of messages that succeeded since, or were parked elsewhere.
                    session.execute(
                        delete(ConsumerFailure).where(
                            ConsumerFailure.updated_at < now - FAILURES_KEPT
                        )
                    )
                    return row.failures
            except IntegrityError:
                continue
            except Exception:  # the database failed too: count here
                log.warning("%s: failure not counted in the database", self.name, exc_info=True)
                break
        self.failures[key] += 1
        return self.failures[key]

    def _forget_failures(self, key: str) -> None:
        self.failures.pop(key, None)
        try:
            with self.db.transaction() as session:
                session.execute(
                    delete(ConsumerFailure).where(
                        ConsumerFailure.consumer == self.name, ConsumerFailure.message_id == key
                    )
                )
        except Exception:  # a stale count is purged after FAILURES_KEPT
            log.debug("%s: could not forget the failures of %s", self.name, key, exc_info=True)

    def run(self, stop: threading.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            handled = self.applied + self.duplicates
            try:
                with connect(
                    self.broker_url, visibility_timeout=self.visibility_timeout
                ) as connection:
                    connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
                    self._consume(connection, stop)
            except Exception as exc:  # noqa: BLE001 - broker or database down: retry, never die
                log.warning("%s: %s: %s; retrying", self.name, type(exc).__name__, exc)
                if self.applied + self.duplicates > handled:
                    backoff = 0.1
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
