"""Police stations taking complaints, the communes they are competent for, and their slots.

Stations are deployment data, imported from a CSV
(``code,name,address,lat,lon,service_code,communes,referent_email``; ``communes``
is a ``;``-separated list of INSEE codes). Every line is checked before anything
is written: one bad line and nothing is imported.

The station competent for an incident is the one covering its commune
(``StationCommune`` by the incident's INSEE code). When no station covers it, the
appointment request waits with no station (``station_code`` null) until an
administrator adds one (``intake-service status`` names their communes); the import
then places them (``appointments.place_requests_without_station``).

Slots are complaint-taking times of a station, in Europe/Paris time; French public
holidays are never offered (``holidays`` package). A share of them is reserved for
priority appointments, offered first to the station's waiting requests (booked with
the caller's ``BookingPolicy``, which says where the deployment's email texts are); an
unused reserved slot is released (``released_at``) a set time before it starts, for
ordinary booking.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import holidays as holidays_package
from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from intake_service import audit
from intake_service.access import Principal, station_of
from intake_service.eligibility import PARIS
from intake_service.models import Appointment, ComplaintSlot, PoliceStation, StationCommune

if TYPE_CHECKING:
    # The booking module imports this one: its policy is only named here.
    from intake_service.appointments import BookingPolicy

COLUMNS = ("code", "name", "address", "lat", "lon", "service_code", "communes", "referent_email")
STATION_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
SERVICE_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")
INSEE_CODE = re.compile(r"\d{5}|2[AB]\d{3}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
HOUR = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
# Progress is reported every so many lines (and once at the end).
PROGRESS_EVERY = 100
# No generation over more than a year at once.
MAX_GENERATION_DAYS = 366
MAX_SLOT_DURATION = dt.timedelta(hours=8)

SYSTEM = Principal(role="system", scope="*", actor="appointments")
Progress = Callable[[str, int], None]


def french_holidays() -> Container[dt.date]:
    """French public holidays (metropolitan), any year, from the ``holidays`` package."""
    calendar: Container[dt.date] = holidays_package.country_holidays("FR")
    return calendar


class NotFound(LookupError):
    """No such station or slot, or not in the caller's scope (answered 404)."""


@dataclass(frozen=True)
class CsvIssue:
    line: int
    column: str
    message: str


class StationImportError(ValueError):
    """The file is refused: every issue names its line and column."""

    def __init__(self, file: str, issues: Sequence[CsvIssue]) -> None:
        self.file = file
        self.issues = list(issues)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            f"{self.file} line {issue.line}, column {issue.column}: {issue.message}"
            for issue in self.issues
        )


@dataclass(frozen=True)
class StationRow:
    code: str
    name: str
    address: str
    lat: float | None
    lon: float | None
    service_code: str | None
    communes: tuple[str, ...]
    referent_email: str | None


def _coordinate(
    value: str, column: str, bound: float, issues: list[CsvIssue], line: int
) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        issues.append(CsvIssue(line, column, f"{value!r} is not a number"))
        return None
    if not -bound <= number <= bound:
        issues.append(CsvIssue(line, column, f"{value} is outside [-{bound:g}, {bound:g}]"))
        return None
    return number


def parse_stations(text: str, file: str = "stations.csv") -> list[StationRow]:
    """Parse and check every line; raise StationImportError listing every issue."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(cell.strip() for cell in header) != COLUMNS:
        raise StationImportError(
            file, [CsvIssue(1, "(header)", f"the header must be {','.join(COLUMNS)}")]
        )
    issues: list[CsvIssue] = []
    rows: list[StationRow] = []
    seen_codes: dict[str, int] = {}
    seen_communes: dict[str, tuple[str, int]] = {}
    for line, raw in enumerate(reader, start=2):
        if not raw or all(not cell.strip() for cell in raw):
            continue
        if len(raw) != len(COLUMNS):
            issues.append(
                CsvIssue(line, "(line)", f"expected {len(COLUMNS)} columns, found {len(raw)}")
            )
            continue
        cells = dict(zip(COLUMNS, (cell.strip() for cell in raw), strict=True))
        before = len(issues)
        code = cells["code"]
        if not STATION_CODE.fullmatch(code):
            issues.append(CsvIssue(line, "code", f"{code!r} is not a station code (csp-toulouse)"))
        elif code in seen_codes:
            issues.append(CsvIssue(line, "code", f"{code} is already on line {seen_codes[code]}"))
        else:
            seen_codes[code] = line
        for column, limit in (("name", 200), ("address", 300)):
            if not cells[column] or len(cells[column]) > limit:
                issues.append(CsvIssue(line, column, f"empty or longer than {limit} characters"))
        lat = _coordinate(cells["lat"], "lat", 90, issues, line)
        lon = _coordinate(cells["lon"], "lon", 180, issues, line)
        if (lat is None) != (lon is None) and len(issues) == before:
            issues.append(CsvIssue(line, "lat" if lat is None else "lon", "give both or neither"))
        service_code = cells["service_code"] or None
        if service_code is not None and not SERVICE_CODE.fullmatch(service_code):
            issues.append(
                CsvIssue(line, "service_code", f"{service_code!r} is not a service code (ddsp-31)")
            )
        communes = tuple(part.strip() for part in cells["communes"].split(";") if part.strip())
        if not communes:
            issues.append(CsvIssue(line, "communes", "at least one INSEE code (31555;31069)"))
        for commune in communes:
            if not INSEE_CODE.fullmatch(commune):
                issues.append(CsvIssue(line, "communes", f"{commune!r} is not an INSEE code"))
            elif commune in seen_communes and seen_communes[commune][0] != code:
                other, other_line = seen_communes[commune]
                issues.append(
                    CsvIssue(
                        line,
                        "communes",
                        f"commune {commune} is already covered by {other} (line {other_line})",
                    )
                )
            else:
                seen_communes[commune] = (code, line)
        referent_email = cells["referent_email"] or None
        if referent_email is not None and (
            len(referent_email) > 254 or not EMAIL.fullmatch(referent_email)
        ):
            issues.append(CsvIssue(line, "referent_email", f"{referent_email!r} is not an email"))
        if len(issues) == before:
            rows.append(
                StationRow(
                    code=code,
                    name=cells["name"],
                    address=cells["address"],
                    lat=lat,
                    lon=lon,
                    service_code=service_code,
                    communes=tuple(dict.fromkeys(communes)),
                    referent_email=referent_email,
                )
            )
    if issues:
        raise StationImportError(file, issues)
    return rows


def read_stations(path: Path) -> list[StationRow]:
    """Read and check a stations CSV file (errors name the file, line and column)."""
    return parse_stations(path.read_text(encoding="utf-8"), path.name)


def import_stations(
    session: Session,
    rows: Sequence[StationRow],
    now: dt.datetime,
    progress: Progress | None = None,
) -> int:
    """Add or update each station and replace the communes it covers; idempotent.

    ``progress("stations", count)`` is called every PROGRESS_EVERY stations and at
    the end. Returns the number of stations.
    """
    codes = [row.code for row in rows]
    # A commune moves to the station of this file that now lists it.
    communes = [commune for row in rows for commune in row.communes]
    if communes:
        session.execute(delete(StationCommune).where(StationCommune.insee_code.in_(communes)))
    if codes:
        session.execute(delete(StationCommune).where(StationCommune.station_code.in_(codes)))
    session.flush()
    for count, row in enumerate(rows, start=1):
        station = session.get(PoliceStation, row.code)
        if station is None:
            station = PoliceStation(code=row.code, created_at=now)
            session.add(station)
        station.name = row.name
        station.address = row.address
        station.lat = row.lat
        station.lon = row.lon
        station.service_code = row.service_code
        station.referent_email = row.referent_email
        session.flush()
        session.add_all(
            StationCommune(insee_code=commune, station_code=row.code) for commune in row.communes
        )
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress("stations", count)
    session.flush()
    if progress is not None:
        progress("stations", len(rows))
    audit.record(
        session,
        audit.COMMAND_LINE,
        "stations.import",
        "police_station",
        None,
        now=now,
        detail={"stations": len(rows)},
    )
    return len(rows)


def competent_station(session: Session, insee_code: str | None) -> PoliceStation | None:
    """The station covering the commune, or None (the request then waits with no station)."""
    if not insee_code:
        return None
    return session.scalar(
        select(PoliceStation)
        .join(StationCommune, StationCommune.station_code == PoliceStation.code)
        .where(StationCommune.insee_code == insee_code)
        .order_by(PoliceStation.code)
        .limit(1)
    )


def get_station(session: Session, principal: Principal, station_code: str) -> PoliceStation:
    """The station, for its own officers; NotFound otherwise."""
    station = session.get(PoliceStation, station_code) if len(station_code) <= 64 else None
    if station is None or station_of(principal) != station.code:
        raise NotFound(station_code)
    return station


def valid_id(record_id: int) -> bool:
    """Whether ``record_id`` can be a row id at all (a URL may hold any integer)."""
    return 1 <= record_id <= 2**31 - 1


def get_slot(session: Session, principal: Principal, slot_id: int) -> ComplaintSlot:
    slot = session.get(ComplaintSlot, slot_id) if valid_id(slot_id) else None
    if slot is None or station_of(principal) != slot.station_code:
        raise NotFound(str(slot_id))
    return slot


# --- slots -----------------------------------------------------------------------------------


class SlotRefused(ValueError):
    """A slot that cannot be created or changed; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.conflict = conflict


def slot_is_booked(session: Session, slot_id: int) -> bool:
    return (
        session.scalar(
            select(Appointment.id).where(
                Appointment.slot_id == slot_id, Appointment.status == "booked"
            )
        )
        is not None
    )


def create_slot(
    session: Session,
    station_code: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    reserved: bool,
    now: dt.datetime,
    policy: BookingPolicy,
    principal: Principal = SYSTEM,
    holidays: Container[dt.date] | None = None,
    fill_queue: bool = True,
) -> ComplaintSlot:
    """One slot; refused on a public holiday, in the past, or ending before it starts.

    A reserved slot is first offered to the station's waiting requests (booked with
    ``policy``).
    """
    calendar = french_holidays() if holidays is None else holidays
    if ends_at <= starts_at:
        raise SlotRefused("ends_at", "The slot must end after it starts.")
    if ends_at - starts_at > MAX_SLOT_DURATION:
        raise SlotRefused("ends_at", "A slot lasts at most 8 hours.")
    if starts_at <= now:
        raise SlotRefused("starts_at", "The slot must start in the future.")
    if starts_at.astimezone(PARIS).date() in calendar:
        raise SlotRefused("starts_at", "No slot on a French public holiday.")
    slot = ComplaintSlot(
        station_code=station_code,
        starts_at=starts_at,
        ends_at=ends_at,
        reserved=reserved,
        created_at=now,
    )
    session.add(slot)
    session.flush()
    audit.record(session, principal, "slot.create", "complaint_slot", str(slot.id), now=now)
    if fill_queue and reserved:
        _fill_queue(session, station_code, now, policy)
    return slot


def _minutes(text: str, field: str) -> int:
    match = HOUR.fullmatch(text)
    if match is None:
        raise SlotRefused(field, f"{text!r} is not an hour HH:MM.")
    return int(match.group(1)) * 60 + int(match.group(2))


def reserved_positions(count: int, share: float) -> set[int]:
    """Which of ``count`` slots of a day are reserved: ``share`` of them, spread out
    (every k-th one: for a half, the 2nd, 4th...; for a quarter, the 4th, 8th...)."""
    fraction = Fraction(str(share)).limit_denominator(1000)
    return {index for index in range(count) if (index + 1) * fraction // 1 > index * fraction // 1}


def generate_slots(
    session: Session,
    station_code: str,
    start_date: dt.date,
    end_date: dt.date,
    weekly_hours: Mapping[int, Sequence[tuple[str, str]]],
    slot_minutes: int,
    reserved_share: float,
    now: dt.datetime,
    *,
    policy: BookingPolicy,
    principal: Principal = SYSTEM,
    holidays: Container[dt.date] | None = None,
    fill_queue: bool = True,
) -> list[ComplaintSlot]:
    """Slots of ``slot_minutes`` over the opening hours of each weekday (0 = Monday), in
    Paris time, from ``start_date`` to ``end_date`` included; public holidays and past
    times skipped, as are starts the station already has (so generating twice adds
    nothing). ``reserved_share`` (0–1) of each day's slots are reserved, spread out.
    Then the station's waiting requests are offered the new reserved slots.
    """
    calendar = french_holidays() if holidays is None else holidays
    if end_date < start_date:
        raise SlotRefused("end_date", "The end date is before the start date.")
    if (end_date - start_date).days >= MAX_GENERATION_DAYS:
        raise SlotRefused("end_date", f"At most {MAX_GENERATION_DAYS} days at once.")
    if not 5 <= slot_minutes <= 480:
        raise SlotRefused("slot_minutes", "Between 5 and 480 minutes.")
    if not 0 <= reserved_share <= 1:
        raise SlotRefused("reserved_share", "A share between 0 and 1.")
    periods: dict[int, list[tuple[int, int]]] = {}
    for weekday, hours in weekly_hours.items():
        if weekday not in range(7):
            raise SlotRefused("weekly_hours", f"{weekday} is not a weekday (0 = Monday … 6).")
        for start, end in hours:
            field = f"weekly_hours.{weekday}"
            first, last = _minutes(start, field), _minutes(end, field)
            if last <= first:
                raise SlotRefused(field, f"{start}–{end}: the end must be after the start.")
            periods.setdefault(weekday, []).append((first, last))
    existing = set(
        session.scalars(
            select(ComplaintSlot.starts_at).where(
                ComplaintSlot.station_code == station_code,
                ComplaintSlot.starts_at >= dt.datetime.combine(start_date, dt.time(), tzinfo=PARIS),
                ComplaintSlot.starts_at
                < dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), tzinfo=PARIS),
            )
        )
    )
    created: list[ComplaintSlot] = []
    day = start_date
    while day <= end_date:
        if day not in calendar:
            starts: list[int] = []
            for first, last in sorted(periods.get(day.weekday(), [])):
                minute = first
                while minute + slot_minutes <= last:
                    starts.append(minute)
                    minute += slot_minutes
            starts = sorted(set(starts))
            reserved = reserved_positions(len(starts), reserved_share)
            for index, minute in enumerate(starts):
                local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=PARIS)
                starts_at = local.astimezone(dt.UTC)
                if starts_at <= now or starts_at in existing:
                    continue
                slot = ComplaintSlot(
                    station_code=station_code,
                    starts_at=starts_at,
                    ends_at=starts_at + dt.timedelta(minutes=slot_minutes),
                    reserved=index in reserved,
                    created_at=now,
                )
                session.add(slot)
                created.append(slot)
        day += dt.timedelta(days=1)
    session.flush()
    audit.record(
        session,
        principal,
        "slot.generate",
        "police_station",
        station_code,
        now=now,
        detail={"slots": len(created), "from": start_date.isoformat(), "to": end_date.isoformat()},
    )
    if fill_queue and any(slot.reserved for slot in created):
        _fill_queue(session, station_code, now, policy)
    return created


def close_slot(
    session: Session, principal: Principal, slot_id: int, now: dt.datetime
) -> ComplaintSlot:
    """Close a slot of the officer's station; refused while an appointment holds it."""
    slot = get_slot(session, principal, slot_id)
    session.execute(select(ComplaintSlot.id).where(ComplaintSlot.id == slot.id).with_for_update())
    if slot.closed_at is not None:
        return slot
    if slot_is_booked(session, slot.id):
        raise SlotRefused(
            "slot_id",
            "An appointment holds this slot: cancel or reschedule it first.",
            conflict=True,
        )
    slot.closed_at = now
    session.flush()
    audit.record(session, principal, "slot.close", "complaint_slot", str(slot.id), now=now)
    return slot


def release_reserved(session: Session, now: dt.datetime, release_before: dt.timedelta) -> int:
    """Release the unused reserved slots starting within ``release_before``; their count."""
    booked = exists().where(Appointment.slot_id == ComplaintSlot.id, Appointment.status == "booked")
    result = session.execute(
        update(ComplaintSlot)
        .where(
            ComplaintSlot.reserved.is_(True),
            ComplaintSlot.released_at.is_(None),
            ComplaintSlot.closed_at.is_(None),
            ComplaintSlot.starts_at > now,
            ComplaintSlot.starts_at <= now + release_before,
            ~booked,
        )
        .values(released_at=now)
        .execution_options(synchronize_session=False)
    )
    released = int(getattr(result, "rowcount", 0) or 0)
    if released:
        audit.record(
            session,
            SYSTEM,
            "slot.release",
            "complaint_slot",
            None,
            now=now,
            detail={"slots": released},
        )
    return released


def _fill_queue(
    session: Session, station_code: str, now: dt.datetime, policy: BookingPolicy
) -> None:
    # The booking module uses this one: imported here, when needed, to avoid a cycle.
    from intake_service import appointments

    appointments.fill_from_queue(session, station_code, now, policy=policy)
