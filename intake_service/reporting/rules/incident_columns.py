"""The columns of the incident export, and one row of it from the facts read. Pure.

Both exports (an operator's own sheets, a command centre's service) have the same
columns, and none of them holds an identity: no reporter's name or phone, no victim's
or witness's contact, no suspect description, no narrative. The query never reads
those fields (``incident_export``); this module could not write them if it did:
``ExportFacts`` has no field to hold them.

Times are Paris time with their offset (``2026-03-14T18:24:00+01:00``): what the field
reads, and unambiguous around the change of hour. A cell that a spreadsheet would run
as a formula is prefixed with ``'``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

COLUMNS = (
    "incident_id",
    "operator_reference",
    "operator",
    "service",
    "received_at",
    "acknowledged_at",
    "dispatched_at",
    "closed_at",
    "status",
    "outcome",
    "priority",
    "primary_nature",
    "natures",
    "mode",
    "place",
    "route_id",
    "stop_id",
    "insee_code",
)


@dataclass(frozen=True)
class ExportFacts:
    """What one row says of an incident: times, outcome, priority, natures, place."""

    incident_id: str
    operator_reference: str
    operator: str
    service: str | None
    received_at: dt.datetime
    acknowledged_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    closed_at: dt.datetime | None
    status: str
    outcome: str | None
    priority: str
    primary_nature: str
    natures: Sequence[str]
    mode: int | None
    place: str | None
    route_id: str | None
    stop_id: str | None
    insee_code: str | None


def paris_time(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(PARIS).isoformat(timespec="seconds")


def cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def row(facts: ExportFacts) -> list[str]:
    """The CSV row of ``facts``, in ``COLUMNS`` order; natures joined by ``|``."""
    return [
        cell(value)
        for value in (
            facts.incident_id,
            facts.operator_reference,
            facts.operator,
            facts.service,
            paris_time(facts.received_at),
            paris_time(facts.acknowledged_at),
            paris_time(facts.dispatched_at),
            paris_time(facts.closed_at),
            facts.status,
            facts.outcome,
            facts.priority,
            facts.primary_nature,
            "|".join(facts.natures),
            facts.mode,
            facts.place,
            facts.route_id,
            facts.stop_id,
            facts.insee_code,
        )
    ]
