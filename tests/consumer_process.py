"""An internal consumer in a process of its own, for the fault tests: it can be SIGKILLed.

``python -m tests.consumer_process`` with DATABASE_URL, BROKER_URL, NAMESPACE and,
to be killed at the worst moment, STALL_AT=n and MARKER=path: the n-th message is
applied and committed, the marker file is written, and the process hangs before
its ack, waiting for the test's SIGKILL. The effect of each event is one audit
entry (``fault.applied``, the incident's id): an effect applied twice would show as
two entries, which nothing in the database prevents.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kombu.message import Message
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.platform import logs
from intake_service.platform.db import Database
from workers.consumer import EventConsumer
from workers.runner import run_workers

CONSUMER = "linker"  # any internal queue: the namespace keeps it the test's own
EFFECT = "fault.applied"
PRINCIPAL = Principal(role="admin", scope="*", actor="fault-consumer")


def apply(session: Session, envelope: Mapping[str, Any]) -> None:
    incident_id = envelope["payload"]["incident"]["id"]
    audit.record(
        session,
        PRINCIPAL,
        EFFECT,
        "incident",
        incident_id,
        now=dt.datetime.now(dt.UTC),
        detail={"event_id": envelope["id"]},
    )


class StallingConsumer(EventConsumer):
    """Hangs between the commit of its ``stall_at``-th message and that message's ack."""

    def __init__(self, *args: Any, stall_at: int, marker: Path, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stall_at = stall_at
        self.marker = marker

    def on_message(self, body: Any, message: Message) -> None:
        ack = message.ack

        def ack_or_stall() -> None:
            if self.applied + self.duplicates == self.stall_at:
                self.marker.write_text(str(self.applied))
                time.sleep(3600)  # until SIGKILL: committed, never acknowledged
            ack()

        message.ack = ack_or_stall  # type: ignore[method-assign]  # the fault is injected here
        super().on_message(body, message)


def main() -> None:
    logs.configure("INFO")
    db = Database(os.environ["DATABASE_URL"])
    options: dict[str, Any] = {
        "namespace": os.environ["NAMESPACE"],
        "visibility_timeout": float(os.environ.get("VISIBILITY_SECONDS", "2")),
        "prefetch": 20,
    }
    consumer: EventConsumer
    if os.environ.get("STALL_AT"):
        consumer = StallingConsumer(
            CONSUMER,
            db,
            os.environ["BROKER_URL"],
            apply,
            stall_at=int(os.environ["STALL_AT"]),
            marker=Path(os.environ["MARKER"]),
            **options,
        )
    else:
        consumer = EventConsumer(CONSUMER, db, os.environ["BROKER_URL"], apply, **options)
    run_workers([consumer], threading.Event())


if __name__ == "__main__":
    main()
