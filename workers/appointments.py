"""The appointments worker: books for each submitted or amended incident, cancels what a
withdrawn one holds, and releases unused reserved slots shortly before they start.

Events come from ``internal.appointments`` through ``EventConsumer`` (each applied
once); the handler reads the incident's current state (``incident_events.book_for_incident``),
whatever the event's type: a withdrawn incident's requests end even if its events
arrive out of order.
The release of reserved slots runs beside it, every minute.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from intake_service.appointments import incident_events, slots
from intake_service.appointments.policy import BookingPolicy, policy_of
from intake_service.platform.clock import utc_now
from intake_service.platform.config import Config
from intake_service.platform.db import Database
from workers.consumer import EventConsumer

log = logging.getLogger(__name__)


def booking_handler(
    policy: BookingPolicy, clock: Callable[[], dt.datetime] = utc_now
) -> Callable[[Session, Mapping[str, Any]], None]:
    """The consumer's handler: book for the event's incident as it is now (or, withdrawn,
    cancel its requests and coming appointments)."""

    def handle(session: Session, envelope: Mapping[str, Any]) -> None:
        incident_id = str(envelope["payload"]["incident"]["id"])
        incident_events.book_for_incident(session, incident_id, clock(), policy=policy)

    return handle


class SlotReleaser:
    """Every ``interval_seconds``, releases reserved slots unused ``release_before`` their start."""

    name = "slot-release"

    def __init__(
        self,
        db: Database,
        *,
        release_before: dt.timedelta,
        interval_seconds: float = 60.0,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.db = db
        self.release_before = release_before
        self.interval_seconds = interval_seconds
        self.clock = clock

    def run_once(self) -> int:
        with self.db.transaction() as session:
            return slots.release_reserved(session, self.clock(), self.release_before)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                released = self.run_once()
                if released:
                    log.info("slot-release: %d reserved slots released", released)
            except Exception as exc:  # noqa: BLE001 - database down: retry at the next tick
                log.warning("slot-release failed (%s); retrying", type(exc).__name__)
            stop.wait(self.interval_seconds)


class AppointmentWorker:
    """The booking consumer and the slot releaser, in one worker."""

    name = "appointments"

    def __init__(
        self, config: Config, db: Database, *, clock: Callable[[], dt.datetime] = utc_now
    ) -> None:
        policy = policy_of(config)
        self.consumer = EventConsumer(
            "appointments",
            db,
            config.broker_url,
            booking_handler(policy, clock),
            clock=clock,
            namespace=config.broker_namespace,
        )
        self.releaser = SlotReleaser(db, release_before=config.reserved_slot_release, clock=clock)

    def run(self, stop: threading.Event) -> None:
        releaser = threading.Thread(
            target=self.releaser.run, args=(stop,), name="slot-release", daemon=True
        )
        releaser.start()
        try:
            self.consumer.run(stop)
        finally:
            releaser.join(timeout=30)
