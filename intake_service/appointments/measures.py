"""What the GPO measures of priority appointments, per operator and per police station.

Over a period (requests created from ``since`` to ``until``, excluded):

- ``eligible``: staff victims entitled to an appointment (a request that is
  waiting, booked or cancelled, or that got an appointment; an offer not yet
  accepted and a declined one are not counted);
- ``booked`` and ``share_booked``: those who got an appointment;
- ``median_delay_hours``: from the request to the start of its first appointment;
- ``past``, ``share_honoured``, ``share_missed``: of the appointments still held
  (not cancelled nor moved) whose start is past, those the station marked
  honoured or missed (the rest are not marked yet).

Each caller sees its own scope: an operator its own staff, a station officer its
station, a GPO referent and the administrator everything. No personal data.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal, station_of
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    Operator,
    PoliceStation,
)
from intake_service.platform.clock import PARIS

ELIGIBLE_STATES = frozenset({"waiting", "booked", "cancelled"})
HELD = frozenset({"booked", "honoured", "missed"})
NO_STATION = "sans commissariat"
DEFAULT_DAYS = 90


class OutOfScope(LookupError):
    """An operator or station filter the caller may not see (answered 404)."""


@dataclass
class Measures:
    key: str
    name: str
    eligible: int = 0
    booked: int = 0
    past: int = 0
    honoured: int = 0
    missed: int = 0
    delays_hours: list[float] = field(default_factory=list)

    @property
    def share_booked(self) -> float | None:
        return self.booked / self.eligible if self.eligible else None

    @property
    def median_delay_hours(self) -> float | None:
        return round(statistics.median(self.delays_hours), 1) if self.delays_hours else None

    @property
    def share_honoured(self) -> float | None:
        return self.honoured / self.past if self.past else None

    @property
    def share_missed(self) -> float | None:
        return self.missed / self.past if self.past else None

    def document(self) -> dict[str, object]:
        return {
            "key": self.key,
            "name": self.name,
            "eligible": self.eligible,
            "booked": self.booked,
            "share_booked": _round(self.share_booked),
            "median_delay_hours": self.median_delay_hours,
            "past": self.past,
            "honoured": self.honoured,
            "missed": self.missed,
            "share_honoured": _round(self.share_honoured),
            "share_missed": _round(self.share_missed),
        }


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


@dataclass
class Report:
    since: dt.datetime
    until: dt.datetime
    total: Measures
    by_operator: list[Measures]
    by_station: list[Measures]


def period(
    start: dt.date | None, end: dt.date | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """Whole Paris days, ``end`` included: [start 00:00, end + 1 day 00:00), in UTC.

    By default the last ``DEFAULT_DAYS`` days up to today.
    """
    today = now.astimezone(PARIS).date()
    end = end or today
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    since = dt.datetime.combine(start, dt.time(), tzinfo=PARIS).astimezone(dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=PARIS)
    return since, until.astimezone(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class _Row:
    operator: str
    station: str | None
    counted: bool
    delay_hours: float | None
    # The held appointment's state when its start is past, else None.
    past_status: str | None


def scope_filters(
    principal: Principal, operator: str | None, station: str | None
) -> tuple[str | None, str | None]:
    """The (operator, station) filters the caller gets: its own scope, or what it asked."""
    if principal.role == "operator":
        if operator not in (None, principal.scope):
            raise OutOfScope(operator)
        return principal.scope, station
    own_station = station_of(principal)
    if own_station is not None:
        if station not in (None, own_station):
            raise OutOfScope(station)
        return operator, own_station
    if principal.role in ("gpo_referent", "admin"):
        return operator, station
    raise OutOfScope(principal.role)


def measure(
    session: Session,
    principal: Principal,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
    *,
    operator: str | None = None,
    station: str | None = None,
) -> Report:
    operator, station = scope_filters(principal, operator, station)
    statement = (
        select(AppointmentRequest, Operator.code)
        .join(Operator, Operator.id == AppointmentRequest.operator_id)
        .where(AppointmentRequest.created_at >= since, AppointmentRequest.created_at < until)
        .order_by(AppointmentRequest.id)
    )
    if operator is not None:
        statement = statement.where(Operator.code == operator)
    if station is not None:
        statement = statement.where(AppointmentRequest.station_code == station)
    requests = list(session.execute(statement))
    held: dict[int, list[tuple[Appointment, ComplaintSlot]]] = {}
    ids = [request.id for request, _ in requests]
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for appointment, slot in session.execute(
            select(Appointment, ComplaintSlot)
            .join(ComplaintSlot, ComplaintSlot.id == Appointment.slot_id)
            .where(Appointment.request_id.in_(chunk))
            .order_by(Appointment.id)
        ):
            held.setdefault(appointment.request_id, []).append((appointment, slot))
    rows = [_row(request, code, held.get(request.id, []), now) for request, code in requests]
    names = dict(session.execute(select(Operator.code, Operator.name)).all())
    station_names = dict(session.execute(select(PoliceStation.code, PoliceStation.name)).all())
    return Report(
        since=since,
        until=until,
        total=_aggregate("total", "Ensemble", rows),
        by_operator=_grouped(rows, lambda row: row.operator, names),
        by_station=_grouped(rows, lambda row: row.station or NO_STATION, station_names),
    )


def _row(
    request: AppointmentRequest,
    operator_code: str,
    held: list[tuple[Appointment, ComplaintSlot]],
    now: dt.datetime,
) -> _Row:
    counted = request.state in ELIGIBLE_STATES or bool(held)
    delay = None
    if held:
        first_start = _aware(held[0][1].starts_at)
        delay = (first_start - _aware(request.created_at)).total_seconds() / 3600
    past_status = None
    current = [(a, s) for a, s in held if a.status in HELD]
    if current:
        appointment, slot = current[-1]
        if _aware(slot.starts_at) <= now:
            past_status = appointment.status
    return _Row(operator_code, request.station_code, counted, delay, past_status)


def _aggregate(key: str, name: str, rows: Iterable[_Row]) -> Measures:
    measures = Measures(key=key, name=name)
    for row in rows:
        if not row.counted:
            continue
        measures.eligible += 1
        if row.delay_hours is not None:
            measures.booked += 1
            measures.delays_hours.append(row.delay_hours)
        if row.past_status is not None:
            measures.past += 1
            measures.honoured += row.past_status == "honoured"
            measures.missed += row.past_status == "missed"
    return measures


def _grouped(
    rows: list[_Row], key_of: Callable[[_Row], str], names: dict[str, str]
) -> list[Measures]:
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        groups.setdefault(key_of(row), []).append(row)
    return [
        _aggregate(key, names.get(key, key), group)
        for key, group in sorted(groups.items())
        if any(row.counted for row in group)
    ]


# --- The national view (issue 16): the same measures over any group of incidents ---------

RequestRow = _Row


def rows_by_incident(
    session: Session, since: dt.datetime, until: dt.datetime, now: dt.datetime
) -> dict[str, list[RequestRow]]:
    """Every request created in ``[since, until)``, as the measures count it, by incident
    id: the overview groups them by GPO and département (``summarise``)."""
    requests = list(
        session.execute(
            select(AppointmentRequest, Operator.code)
            .join(Operator, Operator.id == AppointmentRequest.operator_id)
            .where(AppointmentRequest.created_at >= since, AppointmentRequest.created_at < until)
            .order_by(AppointmentRequest.id)
        )
    )
    held: dict[int, list[tuple[Appointment, ComplaintSlot]]] = {}
    ids = [request.id for request, _ in requests]
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for appointment, slot in session.execute(
            select(Appointment, ComplaintSlot)
            .join(ComplaintSlot, ComplaintSlot.id == Appointment.slot_id)
            .where(Appointment.request_id.in_(chunk))
            .order_by(Appointment.id)
        ):
            held.setdefault(appointment.request_id, []).append((appointment, slot))
    found: dict[str, list[RequestRow]] = {}
    for request, code in requests:
        found.setdefault(request.incident_id, []).append(
            _row(request, code, held.get(request.id, []), now)
        )
    return found


def summarise(key: str, name: str, rows: Iterable[RequestRow]) -> Measures:
    """The measures of ``rows`` (eligible, booked, median delay, honoured)."""
    return _aggregate(key, name, rows)
