"""Police stations taking complaints and the communes they are competent for.

Stations are deployment data, imported from a CSV
(``code,name,address,lat,lon,service_code,communes,referent_email``; ``communes``
is a ``;``-separated list of INSEE codes). Every line is checked before anything
is written: one bad line and nothing is imported.

The station competent for an incident is the one covering its commune
(``StationCommune`` by the incident's INSEE code). When no station covers it, the
appointment request waits with no station (``station_code`` null) until an
administrator adds one (``intake-service status`` names their communes); the import
then places them (``incident_events.place_requests_without_station``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal, station_of
from intake_service.models import PoliceStation, StationCommune

if TYPE_CHECKING:
    # The booking module imports this one: its policy is only named here.
    pass
from intake_service.platform.errors import NotFound

COLUMNS = ("code", "name", "address", "lat", "lon", "service_code", "communes", "referent_email")
STATION_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
SERVICE_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")
INSEE_CODE = re.compile(r"\d{5}|2[AB]\d{3}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
# Progress is reported every so many lines (and once at the end).
PROGRESS_EVERY = 100

SYSTEM = Principal(role="system", scope="*", actor="appointments")
Progress = Callable[[str, int], None]


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
