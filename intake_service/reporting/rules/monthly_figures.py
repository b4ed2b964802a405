"""The monthly statistics return of an operator's network: counts by nature family,
staff and passenger victims, for the network, by line and by commune. Pure.

Counted: the sheets the operator sent in the month (received from the 1st 00:00 to the
next 1st 00:00, Paris time), each as it stood at the month's end (its last version
before then), the sheets withdrawn before the month's end left out. An incident counts
once in each family one of its natures belongs to (so the families may add up to more
than the incidents). A victim counts by its kind (``staff``, ``passenger``; third
parties are in neither column).

Nothing here reads a clock: the same sheets give the same figures, and the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from intake_service.intake.rules.natures import NATURE_FAMILIES, family_of

FAMILIES: tuple[str, ...] = tuple(NATURE_FAMILIES)
NO_LINE = ""
NO_COMMUNE = ""


@dataclass(frozen=True)
class SheetFacts:
    """What the return reads of one sheet: natures, victims' kinds, line, commune."""

    natures: Sequence[str]
    victim_kinds: Sequence[str]
    route_id: str | None
    insee_code: str | None


def facts_of(sheet: Mapping[str, Any], insee_code: str | None) -> SheetFacts:
    """The facts of a stored sheet; the commune is the routed one when the sheet gave none."""
    location = sheet.get("location") or {}
    return SheetFacts(
        natures=tuple(sheet.get("natures") or ()),
        victim_kinds=tuple(str(v.get("kind")) for v in sheet.get("victims") or ()),
        route_id=location.get("route_id") or None,
        insee_code=location.get("insee_code") or insee_code or None,
    )


@dataclass
class Counts:
    incidents: int = 0
    families: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAMILIES, 0))
    staff_victims: int = 0
    passenger_victims: int = 0

    def add(self, facts: SheetFacts) -> None:
        self.incidents += 1
        for family in family_of(facts.natures):
            self.families[family] += 1
        self.staff_victims += sum(1 for kind in facts.victim_kinds if kind == "staff")
        self.passenger_victims += sum(1 for kind in facts.victim_kinds if kind == "passenger")


@dataclass(frozen=True)
class MonthlyFigures:
    month: str
    operator: str
    network: Counts
    # route_id (NO_LINE: no line given) → counts, sorted by key.
    lines: Mapping[str, Counts]
    # INSEE code (NO_COMMUNE: none known) → counts, sorted by key.
    communes: Mapping[str, Counts]


def compute(month: str, operator: str, sheets: Iterable[SheetFacts]) -> MonthlyFigures:
    network = Counts()
    lines: dict[str, Counts] = {}
    communes: dict[str, Counts] = {}
    for facts in sheets:
        network.add(facts)
        lines.setdefault(facts.route_id or NO_LINE, Counts()).add(facts)
        communes.setdefault(facts.insee_code or NO_COMMUNE, Counts()).add(facts)
    return MonthlyFigures(
        month=month,
        operator=operator,
        network=network,
        lines=dict(sorted(lines.items())),
        communes=dict(sorted(communes.items())),
    )


CSV_COLUMNS = (
    "month",
    "operator",
    "breakdown",
    "code",
    "name",
    "incidents",
    *(f"family_{family}" for family in FAMILIES),
    "staff_victims",
    "passenger_victims",
)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def table_rows(
    figures: MonthlyFigures,
    line_name: Callable[[str], str | None],
    commune_name: Callable[[str], str | None],
) -> list[list[str]]:
    """The return as rows: the network, then each line, then each commune."""

    def one(breakdown: str, code: str, name: str | None, counts: Counts) -> list[str]:
        return [
            _cell(value)
            for value in (
                figures.month,
                figures.operator,
                breakdown,
                code,
                name or "",
                counts.incidents,
                *(counts.families[family] for family in FAMILIES),
                counts.staff_victims,
                counts.passenger_victims,
            )
        ]

    rows = [one("network", figures.operator, None, figures.network)]
    rows += [
        one("line", code, line_name(code) if code else "sans ligne", counts)
        for code, counts in figures.lines.items()
    ]
    rows += [
        one("commune", code, commune_name(code) if code else "sans commune", counts)
        for code, counts in figures.communes.items()
    ]
    return rows


def to_csv(
    figures: MonthlyFigures,
    line_name: Callable[[str], str | None],
    commune_name: Callable[[str], str | None],
) -> bytes:
    """The return as CSV (UTF-8, ``\\r\\n`` line ends): the same figures, the same bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(table_rows(figures, line_name, commune_name))
    return buffer.getvalue().encode("utf-8")
