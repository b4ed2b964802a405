"""Clusters of like incidents (same nature family, same stop or within a radius), and
the place a problem opened from one would cover. Pure.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from intake_service.gpo.rules.scope import IncidentFacts
from intake_service.intake.rules import natures
from intake_service.platform import geo

# The largest radius a scope may have (schemas/gpo.py).
MAX_RADIUS_M = 5000


# --- emerging problems ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterSettings:
    radius_m: float
    min_incidents: int
    window: dt.timedelta


def _near(a: IncidentFacts, b: IncidentFacts, radius_m: float) -> bool:
    if a.operator == b.operator and a.stop_ids & b.stop_ids:
        return True
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return False
    return geo.distance_m(a.lat, a.lon, b.lat, b.lon) <= radius_m


def cluster_place(
    members: Sequence[IncidentFacts], radius_m: float
) -> tuple[list[str], dict[str, Any] | None]:
    """The stop all members share (parent station first), else a point and radius."""
    common = frozenset.intersection(*(m.stop_ids for m in members))
    operators = {m.operator for m in members}
    if common and len(operators) == 1:
        return sorted(common), None
    located = [m for m in members if m.lat is not None and m.lon is not None]
    if not located:
        return sorted(common), None
    lat = sum(m.lat for m in located if m.lat is not None) / len(located)
    lon = sum(m.lon for m in located if m.lon is not None) / len(located)
    farthest = max(
        geo.distance_m(lat, lon, m.lat, m.lon)
        for m in located
        if m.lat is not None and m.lon is not None
    )
    return [], {
        "lat": round(lat, 6),
        "lon": round(lon, 6),
        "radius_m": int(min(MAX_RADIUS_M, max(radius_m, math.ceil(farthest) + 1))),
    }


def _neighbours(pool: Sequence[IncidentFacts], radius_m: float) -> list[set[int]]:
    """For each incident of ``pool``, the indexes of those near it (itself included):
    same stop, or within the radius (looked up in a grid of cells about the radius)."""
    cell_lat = max(radius_m, 1.0) / 111_000
    by_stop: dict[tuple[str, str], list[int]] = {}
    by_cell: dict[tuple[int, int], list[int]] = {}
    cells: list[tuple[int, int] | None] = []
    for index, facts in enumerate(pool):
        for stop_id in facts.stop_ids:
            by_stop.setdefault((facts.operator, stop_id), []).append(index)
        if facts.lat is None or facts.lon is None:
            cells.append(None)
            continue
        # Longitude cells as wide as latitude ones at 60°: wider than the radius in France.
        cell = (math.floor(facts.lat / cell_lat), math.floor(facts.lon / (2 * cell_lat)))
        cells.append(cell)
        by_cell.setdefault(cell, []).append(index)
    found: list[set[int]] = []
    for index, facts in enumerate(pool):
        near = {index}
        for stop_id in facts.stop_ids:
            near.update(by_stop[(facts.operator, stop_id)])
        own = cells[index]
        if own is not None:
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    for other in by_cell.get((own[0] + dy, own[1] + dx), ()):
                        if other not in near and _near(facts, pool[other], radius_m):
                            near.add(other)
        found.append(near)
    return found


def clusters(
    facts: Sequence[IncidentFacts], settings: ClusterSettings
) -> list[tuple[str, list[IncidentFacts]]]:
    """Groups of like incidents (same family, same stop or within the radius).

    Greedy: the incident with the most neighbours left seeds a cluster of itself and
    those neighbours; they are taken out and the next seed is looked for.
    """
    found: list[tuple[str, list[IncidentFacts]]] = []
    for family in natures.NATURE_FAMILIES:
        pool = [f for f in facts if family in natures.family_of(f.natures)]
        neighbours = _neighbours(pool, settings.radius_m)
        left = set(range(len(pool)))
        while len(left) >= settings.min_incidents:
            seed = max(sorted(left), key=lambda i: len(neighbours[i] & left))
            members = neighbours[seed] & left
            if len(members) < settings.min_incidents:
                break
            chosen = sorted(
                (pool[i] for i in members), key=lambda f: (f.occurred_at, f.incident_id)
            )
            found.append((family, chosen))
            left -= members
    return found
