"""The incident export over a period: an operator's own sheets, or a command centre's
service; times received, acknowledged, dispatched, closed, the outcome, priority,
natures and place (``rules/incident_columns.py``), never an identity.

Streamed: the rows come from one query read in chunks (``yield_per``: a server-side
cursor on PostgreSQL, SQLite's step-by-step reading), each chunk written as CSV text
and handed on before the next is fetched, so an export of 100,000 incidents never
holds more than a chunk (``bench/incident_export.py`` measures it). The dispatch and
closing times are correlated subqueries on ``incident_status_changes`` (its
``incident_id`` index), not a second query per row; the sheet's personal fields are
never selected, only the JSON paths of its natures and place.

Audited: the caller's entry point counts the rows and records the export (period,
scope, row count) in a transaction of its own, committed before the first byte is
sent, so an export cut short by the client is in the log all the same.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.models import Incident, Operator, StatusChange
from intake_service.reporting.rules import incident_columns
from intake_service.reporting.rules.incident_columns import ExportFacts
from intake_service.reporting.rules.periods import Period
from intake_service.territory.operators import find_operator
from intake_service.territory.rules.routing import UNROUTED_SERVICE

# Rows fetched (and written) at a time: a few hundred kB of CSV, one round trip each.
CHUNK_ROWS = 1000


class UnknownOperatorCode(LookupError):
    """No operator has this code; the message says how to see the known ones."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(
            f"unknown operator {code!r}: `intake-service operators list` shows the codes."
        )


@dataclass(frozen=True)
class ExportScope:
    """Whose incidents: an operator's (``kind`` operator) or a service's (``service``)."""

    kind: str
    code: str
    operator_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.code}"


def operator_scope(session: Session, code: str) -> ExportScope:
    operator = find_operator(session, code)
    if operator is None:
        raise UnknownOperatorCode(code)
    return ExportScope("operator", code, operator.id)


def service_scope(code: str) -> ExportScope:
    """A command centre's service (``ddsp-31``); the national fallback desk's is
    ``UNROUTED_SERVICE``, the incidents no service was found for."""
    return ExportScope("service", code)


def scope_of(session: Session, principal: Principal) -> ExportScope:
    """The caller's own scope: its operator's sheets, or its service's incidents."""
    if principal.role == "operator":
        return operator_scope(session, principal.scope)
    if principal.role == "command_centre":
        return service_scope(principal.scope)
    raise PermissionError(f"the {principal.role} role exports no incidents")


def _where(statement: Select[Any], scope: ExportScope, period: Period) -> Select[Any]:
    statement = statement.where(
        Incident.received_at >= period.starts_at, Incident.received_at < period.ends_at
    )
    if scope.kind == "operator":
        return statement.where(Incident.operator_id == scope.operator_id)
    if scope.code == UNROUTED_SERVICE:
        return statement.where(Incident.service_code.is_(None))
    return statement.where(Incident.service_code == scope.code)


def count(session: Session, scope: ExportScope, period: Period) -> int:
    """How many rows the export of ``scope`` over ``period`` has."""
    return int(session.scalar(_where(select(func.count()).select_from(Incident), scope, period)))


def _last_change(status: str, column: Any) -> Any:
    return (
        select(column)
        .where(StatusChange.incident_id == Incident.id, StatusChange.status == status)
        .order_by(StatusChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def statement(scope: ExportScope, period: Period) -> Select[Any]:
    """The export's query: one row per incident, oldest first, in a stable order."""
    location = Incident.sheet["location"]
    columns = select(
        Incident.id,
        Incident.operator_reference,
        Operator.code,
        Incident.service_code,
        Incident.received_at,
        Incident.acknowledged_at,
        _last_change("dispatched", StatusChange.at),
        _last_change("closed", StatusChange.at),
        Incident.status,
        _last_change("closed", StatusChange.detail["outcome"].as_string()),
        Incident.priority,
        Incident.primary_nature,
        Incident.sheet["natures"],
        location["mode"].as_integer(),
        location["place"].as_string(),
        location["route_id"].as_string(),
        location["stop_id"].as_string(),
        Incident.insee_code,
    ).join(Operator, Operator.id == Incident.operator_id)
    return _where(columns, scope, period).order_by(Incident.received_at, Incident.id)


def _facts(values: Any) -> ExportFacts:
    (
        incident_id,
        reference,
        operator,
        service,
        received_at,
        acknowledged_at,
        dispatched_at,
        closed_at,
        status,
        outcome,
        priority,
        primary_nature,
        natures,
        mode,
        place,
        route_id,
        stop_id,
        insee_code,
    ) = values
    return ExportFacts(
        incident_id=incident_id,
        operator_reference=reference,
        operator=operator,
        service=service,
        received_at=_utc(received_at),
        acknowledged_at=_utc(acknowledged_at),
        dispatched_at=_utc(dispatched_at),
        closed_at=_utc(closed_at),
        status=status,
        outcome=outcome,
        priority=priority,
        primary_nature=primary_nature,
        natures=tuple(natures or ()),
        mode=mode,
        place=place,
        route_id=route_id,
        stop_id=stop_id,
        insee_code=insee_code,
    )


def _utc(value: Any) -> Any:
    """The subqueries' times come back as the driver gives them (naive on SQLite)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def stream_facts(
    session: Session, scope: ExportScope, period: Period
) -> Iterator[list[ExportFacts]]:
    """The export's rows, a chunk of ``CHUNK_ROWS`` at a time, never all at once."""
    result = session.execute(statement(scope, period).execution_options(yield_per=CHUNK_ROWS))
    for partition in result.partitions():
        yield [_facts(values) for values in partition]


def csv_chunks(
    session: Session,
    scope: ExportScope,
    period: Period,
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The export as CSV text: the header, then one piece per chunk of rows.

    ``progress`` is told the rows written so far after each chunk (the CLI's counter).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(incident_columns.COLUMNS)
    yield buffer.getvalue()
    written = 0
    for chunk in stream_facts(session, scope, period):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(incident_columns.row(facts) for facts in chunk)
        written += len(chunk)
        yield buffer.getvalue()
        if progress is not None:
            progress(written)


def record_export(
    session: Session,
    principal: Principal,
    scope: ExportScope,
    period: Period,
    rows: int,
    *,
    now: dt.datetime,
) -> None:
    """One audit entry per export: who, whose incidents, which period, how many rows."""
    audit.record(
        session,
        principal,
        "incident.export",
        "incident_export",
        scope.label,
        now=now,
        detail={
            "format": "csv",
            "scope": scope.label,
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "rows": rows,
        },
    )


def filename(scope: ExportScope, period: Period) -> str:
    return f"incidents-{scope.code}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
