"""The police-zone table: which communes are in a police zone, and their police service.

Deployment data, imported from a CSV with the columns
``insee_code,service_code,service_name``; an import replaces the whole table.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from intake_service.models import PoliceZone
from intake_service.territory.rules.routing import department_range

COLUMNS = ("insee_code", "service_code", "service_name")
INSEE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})\Z")
SERVICE_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}\Z")


@dataclass(frozen=True)
class ZoneError(ValueError):
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read_zones(path: Path) -> list[tuple[str, str, str]]:
    """Parse and check the CSV; raise ZoneError naming the line at fault."""
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(column.strip() for column in header) != COLUMNS:
        raise ZoneError(1, f"the header must be {','.join(COLUMNS)}")
    rows: dict[str, tuple[str, str, str]] = {}
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            raise ZoneError(line, f"expected {len(COLUMNS)} columns, found {len(row)}")
        insee_code, service_code, service_name = (cell.strip() for cell in row)
        if not INSEE_CODE.match(insee_code):
            raise ZoneError(line, f"{insee_code!r} is not an INSEE commune code")
        if not SERVICE_CODE.match(service_code):
            raise ZoneError(line, f"{service_code!r} is not a service code such as ddsp-83")
        if not service_name or len(service_name) > 200:
            raise ZoneError(line, "the service name is empty or longer than 200 characters")
        if insee_code in rows:
            raise ZoneError(line, f"commune {insee_code} is listed twice")
        rows[insee_code] = (insee_code, service_code, service_name)
    return list(rows.values())


def replace_zones(session: Session, rows: list[tuple[str, str, str]]) -> int:
    """Replace the table in the caller's transaction; return the number of communes."""
    session.execute(delete(PoliceZone))
    if rows:
        session.execute(
            insert(PoliceZone),
            [{"insee_code": i, "service_code": c, "service_name": n} for i, c, n in rows],
        )
    return len(rows)


def covers(session: Session, department: str) -> bool:
    """Does the table cover ``department``: does it list any of its communes? (A range
    scan of the primary key.) A table lists the police-zone communes of the
    départements it was made for; every département has some (its préfecture at least),
    so a département with none listed is one the table says nothing about."""
    low, high = department_range(department)
    found = session.scalar(
        select(PoliceZone.insee_code)
        .where(PoliceZone.insee_code >= low, PoliceZone.insee_code < high)
        .limit(1)
    )
    return found is not None
