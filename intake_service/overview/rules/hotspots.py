"""Where and when incidents happen: per line, a 7 × 24 table of the hours of the week
(Paris time, Monday first), and per stop a count. Pure: places and instants in, counts out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from intake_service.platform.clock import PARIS

TOP_LINES = 10
TOP_STOPS = 50
DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

# (operator code, GTFS id)
Place = tuple[str, str]


@dataclass(frozen=True)
class PlaceFact:
    """An incident as the hotspots see it: when, on which line, at which stop."""

    occurred_at: dt.datetime
    line: Place | None
    stop: Place | None


def hour_of_week(moment: dt.datetime) -> tuple[int, int]:
    """(weekday, hour) in Paris: (0, 0) is Monday 00:00–00:59."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    local = aware.astimezone(PARIS)
    return local.weekday(), local.hour


def empty_week() -> list[list[int]]:
    return [[0] * 24 for _ in range(7)]


def line_heat(facts: Iterable[PlaceFact]) -> dict[Place, list[list[int]]]:
    """Per line, incidents by day of the week × hour."""
    heat: dict[Place, list[list[int]]] = {}
    for fact in facts:
        if fact.line is None:
            continue
        day, hour = hour_of_week(fact.occurred_at)
        heat.setdefault(fact.line, empty_week())[day][hour] += 1
    return heat


def stop_counts(facts: Iterable[PlaceFact]) -> Counter[Place]:
    return Counter(fact.stop for fact in facts if fact.stop is not None)


def top(counts: dict[Place, int], n: int) -> list[tuple[Place, int]]:
    """The ``n`` highest counts, ties in the places' order (stable, reproducible)."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


def heat_level(value: int, highest: int) -> int:
    """0 (none) to 4 (the busiest hour): the heat table's shade."""
    if value <= 0 or highest <= 0:
        return 0
    return min(4, 1 + (4 * value - 1) // highest) if value < highest else 4
