"""Does an incident fit a problem's scope, and under which index keys to look for it.

Pure rules: no I/O. A problem's scope (see ``schemas/gpo.py`` ``ScopeSchema``) constrains
some dimensions (operators, place, natures, weekdays, hours, start date); an incident
fits when it fits every constrained one. Place is an alternative: the incident fits if it
is at one of the stops, on one of the routes, or within the point's radius.

The index: a problem is stored under the keys of its most selective place dimension
(each stop, each route, each grid cell its circle touches); with no place, under its
operators, else its natures, else ``any``. Place and operator keys are combined with
the scope's natures when it names some (``stop:tisseo:SA_1+nature:projectile``). An
incident looks up its own keys (its stops, route, grid cell and operator, each alone and
with each of its natures, its natures and ``any``): any problem it fits shares at least
one key with it, so only those few candidates have their full scope checked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from intake_service.platform.clock import PARIS
from intake_service.platform.geo import EARTH_RADIUS_M, distance_m
from intake_service.platform.labels import WEEKDAY_LABELS

# The grid of the index: cells of CELL_DEGREES in latitude and longitude (~550 m × 400 m
# around Toulouse).
CELL_DEGREES = 0.005
# A circle touching more cells than this is indexed like a scope without place.
MAX_CELLS = 4096

ANY_KEY = "any"
# The length of ``problem_scope_keys.key``.
KEY_MAX = 160

NATURE_LABELS: dict[str, str] = {
    "physical_assault_staff": "agression physique d'agent",
    "threat_or_insult_staff": "outrage ou menace à agent",
    "violence_passenger": "violence sur voyageur",
    "sexual_or_sexist_violence": "violence sexuelle ou sexiste",
    "violent_theft": "vol avec violence",
    "theft": "vol simple",
    "projectile": "jet de projectile",
    "vandalism": "dégradation",
    "drugs": "stupéfiants",
    "weapon": "port ou exhibition d'arme",
    "suspicious_package": "colis suspect",
    "fare_evasion_with_resistance": "fraude avec rébellion",
    "incivility": "incivilité",
    "other": "autre",
}


@dataclass(frozen=True)
class IncidentFacts:
    """What the matcher needs to know about an incident (no personal data)."""

    incident_id: str
    operator: str
    service_code: str | None
    route_id: str | None
    # The stop, its parent station, previous/next stops when on board.
    stop_ids: frozenset[str]
    # The sheet's coordinates, else its stop's.
    lat: float | None
    lon: float | None
    natures: frozenset[str]
    # UTC; days and hours are matched in Europe/Paris time.
    occurred_at: dt.datetime
    priority: str
    has_staff_victim: bool
    injury_severity: str


Reason = dict[str, str]


def stop_key(operator: str, stop_id: str) -> str:
    return f"stop:{operator}:{stop_id}"


def route_key(operator: str, route_id: str) -> str:
    return f"route:{operator}:{route_id}"


def cell_of(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lon / CELL_DEGREES), math.floor(lat / CELL_DEGREES)


def cell_key(ix: int, iy: int) -> str:
    return f"cell:{ix}:{iy}"


def paris_time(at: dt.datetime) -> dt.datetime:
    return at.astimezone(PARIS)


def _circle_cells(lat: float, lon: float, radius_m: float) -> set[tuple[int, int]] | None:
    """Every cell the bounding box of the circle touches; None if too many."""
    angular = max(radius_m, 0.0) / EARTH_RADIUS_M
    # Margins absorb rounding: a point exactly on the circle must fall in a listed cell.
    dlat = math.degrees(angular) * 1.001 + 1e-9
    lat_min, lat_max = lat - dlat, lat + dlat
    cos_lat = math.cos(math.radians(lat))
    sin_ang = math.sin(min(angular, math.pi / 2))
    if cos_lat <= 0 or sin_ang >= cos_lat or lat_max >= 90 or lat_min <= -90:
        return None
    dlon = math.degrees(math.asin(sin_ang / cos_lat)) * 1.001 + 1e-9
    ix0, iy0 = cell_of(lat_min, lon - dlon)
    ix1, iy1 = cell_of(lat_max, lon + dlon)
    if (ix1 - ix0 + 1) * (iy1 - iy0 + 1) > MAX_CELLS:
        return None
    return {(ix, iy) for ix in range(ix0, ix1 + 1) for iy in range(iy0, iy1 + 1)}


def _with_natures(keys: set[str], natures: Iterable[str]) -> set[str]:
    """Each place or operator key narrowed by each nature (``stop:…+nature:projectile``):
    the candidates of an incident then share its place AND one of its natures."""
    natures = list(natures)
    if not natures or len(keys) * len(natures) > MAX_CELLS:
        return keys
    combined = {f"{key}+nature:{nature}" for key in keys for nature in natures}
    if any(len(key) > KEY_MAX for key in combined):
        return keys
    return combined


def scope_keys(scope: Mapping[str, Any]) -> set[str]:
    """The index keys of a scope: its most selective place dimension (with its natures),
    else broader ones."""
    keys: set[str] = set()
    place_indexed = True
    natures = scope.get("natures") or []
    for stop in scope.get("stops") or []:
        keys.add(stop_key(stop["operator"], stop["stop_id"]))
    for route in scope.get("routes") or []:
        keys.add(route_key(route["operator"], route["route_id"]))
    point = scope.get("point")
    if point:
        cells = _circle_cells(float(point["lat"]), float(point["lon"]), float(point["radius_m"]))
        if cells is None:
            place_indexed = False
        else:
            keys.update(cell_key(ix, iy) for ix, iy in cells)
    if keys and place_indexed:
        return _with_natures(keys, natures)
    # No place (or a circle too large to grid): the broader dimensions.
    if scope.get("operators"):
        return _with_natures({f"operator:{code}" for code in scope["operators"]}, natures)
    if natures:
        return {f"nature:{nature}" for nature in natures}
    return {ANY_KEY}


def incident_keys(facts: IncidentFacts) -> set[str]:
    """The keys to look up for an incident: every key a scope it fits may be under."""
    base = {f"operator:{facts.operator}"}
    base.update(stop_key(facts.operator, stop_id) for stop_id in facts.stop_ids)
    if facts.route_id:
        base.add(route_key(facts.operator, facts.route_id))
    if facts.lat is not None and facts.lon is not None:
        base.add(cell_key(*cell_of(facts.lat, facts.lon)))
    keys = {ANY_KEY, *base}
    keys.update(f"nature:{nature}" for nature in facts.natures)
    keys.update(f"{key}+nature:{nature}" for key in base for nature in facts.natures)
    return keys


def _start_date(value: Any) -> dt.date | None:
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def hours_fit(hour: int, start: int, end: int) -> bool:
    """``start`` inclusive, ``end`` exclusive, wrapping past midnight; equal means all day."""
    start, end = start % 24, end % 24
    if start == end:
        return True
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def _place_reason(
    scope: Mapping[str, Any], facts: IncidentFacts, names: Mapping[str, str]
) -> Reason | None:
    """The reason the incident fits the place (stop first, then route, then point)."""
    for stop in scope.get("stops") or []:
        if stop["operator"] == facts.operator and stop["stop_id"] in facts.stop_ids:
            key = stop_key(stop["operator"], stop["stop_id"])
            return {"dimension": "stop", "text": f"même arrêt ({names.get(key, stop['stop_id'])})"}
    for route in scope.get("routes") or []:
        if route["operator"] == facts.operator and route["route_id"] == facts.route_id:
            key = route_key(route["operator"], route["route_id"])
            label = names.get(key, route["route_id"])
            return {"dimension": "route", "text": f"même ligne ({label})"}
    point = scope.get("point")
    if point and facts.lat is not None and facts.lon is not None:
        distance = distance_m(float(point["lat"]), float(point["lon"]), facts.lat, facts.lon)
        radius = float(point["radius_m"])
        if distance <= radius:
            return {
                "dimension": "point",
                "text": f"à {round(distance)} m du point (rayon {round(radius)} m)",
            }
    return None


def match(
    scope: Mapping[str, Any],
    facts: IncidentFacts,
    names: Mapping[str, str] | None = None,
) -> list[Reason] | None:
    """The reasons the incident fits every constrained dimension of the scope, else None.

    ``names`` optionally gives the French names of stops and routes by index key
    (``stop:<operator>:<stop_id>``), for the reasons' text.
    """
    names = names or {}
    reasons: list[Reason] = []
    operators = scope.get("operators") or []
    if operators:
        if facts.operator not in operators:
            return None
        reasons.append({"dimension": "operator", "text": f"réseau {facts.operator}"})
    if scope.get("stops") or scope.get("routes") or scope.get("point"):
        place = _place_reason(scope, facts, names)
        if place is None:
            return None
        reasons.append(place)
    natures = scope.get("natures") or []
    if natures:
        common = sorted(set(natures) & facts.natures)
        if not common:
            return None
        labels = ", ".join(NATURE_LABELS.get(n, n) for n in common)
        reasons.append({"dimension": "nature", "text": f"même nature ({labels})"})
    local = paris_time(facts.occurred_at)
    weekdays = scope.get("weekdays") or []
    if weekdays:
        if local.weekday() not in weekdays:
            return None
        reasons.append(
            {"dimension": "weekday", "text": f"un {WEEKDAY_LABELS[local.weekday()].lower()}"}
        )
    hours = scope.get("hours")
    if hours:
        start, end = int(hours["from"]), int(hours["to"])
        if not hours_fit(local.hour, start, end):
            return None
        reasons.append({"dimension": "hours", "text": f"entre {start} h et {end} h"})
    start_date = _start_date(scope.get("start_date"))
    if start_date is not None:
        if local.date() < start_date:
            return None
        reasons.append(
            {"dimension": "start_date", "text": f"depuis le {start_date.strftime('%d/%m/%Y')}"}
        )
    return reasons


def is_strong(reasons: Iterable[Mapping[str, str]]) -> bool:
    """Same stop and same nature: may be linked without waiting for the referent."""
    dimensions = {reason.get("dimension") for reason in reasons}
    return "stop" in dimensions and "nature" in dimensions
