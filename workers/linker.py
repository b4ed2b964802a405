"""The linker: proposes links between each new or amended incident and the open GPO
problems whose scope it fits (``intake_service.gpo.linker``), each event exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from intake_service.gpo import linker
from intake_service.platform.db import Database
from workers.consumer import EventConsumer


def apply_event(session: Session, envelope: Mapping[str, Any]) -> None:
    """Relink the incident the event names (its current state, not the payload's)."""
    linker.relink_incident(session, str(envelope["payload"]["incident"]["id"]))


def build(db: Database, broker_url: str, namespace: str = "") -> EventConsumer:
    return EventConsumer("linker", db, broker_url, apply_event, namespace=namespace)
