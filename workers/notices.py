"""The notices worker: writes the functional-mailbox notices of incidents' events.

Events come from ``internal.notices`` through ``EventConsumer`` (each applied once);
the handler calls ``incident_notices.notice_for_event``, which reads the incident as it
is now and writes each notice once (its dedup key), in the transaction that records
the event as applied. The mailer sends the emails (``workers/mailer.py``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from intake_service.directory import incident_notices
from intake_service.platform.clock import utc_now
from intake_service.platform.config import Config
from intake_service.platform.db import Database
from workers.consumer import EventConsumer


def notice_handler(
    public_url: str, clock: Callable[[], dt.datetime] = utc_now
) -> Callable[[Session, Mapping[str, Any]], None]:
    """The consumer's handler: the notice the event calls for, if any."""

    def handle(session: Session, envelope: Mapping[str, Any]) -> None:
        incident_notices.notice_for_event(session, envelope, clock(), public_url)

    return handle


class NoticeWorker:
    """Consumes incidents' events into functional-mailbox notices."""

    name = "notices"

    def __init__(
        self, config: Config, db: Database, *, clock: Callable[[], dt.datetime] = utc_now
    ) -> None:
        self.consumer = EventConsumer(
            "notices",
            db,
            config.broker_url,
            notice_handler(config.public_url, clock),
            clock=clock,
            namespace=config.broker_namespace,
        )

    def run(self, stop: threading.Event) -> None:
        self.consumer.run(stop)
