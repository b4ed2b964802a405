"""The linker: proposes links between each new or amended incident and the open GPO
problems whose scope it fits (``intake_service.linking``), each event exactly once."""

from __future__ import annotations

from intake_service.gpo import linker
from intake_service.platform.db import Database
from workers.consumer import EventConsumer


def build(db: Database, broker_url: str, namespace: str = "") -> EventConsumer:
    return EventConsumer("linker", db, broker_url, linker.apply_event, namespace=namespace)
