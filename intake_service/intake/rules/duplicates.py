"""When two reports may be one event, and which one leads a group (``command-centre.md``).

Pure: tested as tables in tests/unit/intake/. A driver's radio call, the driver's own
app, a ticket inspector on the platform and a second operator at an interchange may
report the same fight: two open incidents of one competent service are candidates
when they happened within a window of each other, with natures of a common family,
and at the same place by transit keys (the same vehicle, the same route and direction,
the same stop: one operator's ids) or within a distance (across operators too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from intake_service.intake.rules.natures import FAMILY_LABELS, family_of
from intake_service.platform.geo import distance_m

PRIORITY_ORDER = ("P1", "P2", "P3", "P4")
# A strong match may be grouped at once (when the service chose so): the same vehicle
# within this delay, natures of a common family.
STRONG_WITHIN = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Settings:
    window: dt.timedelta = dt.timedelta(minutes=30)
    distance_m: float = 300.0


@dataclass(frozen=True)
class Report:
    """What the rules compare of an incident."""

    id: str
    operator: str
    occurred_at: dt.datetime
    natures: tuple[str, ...]
    vehicle_id: str | None = None
    route_id: str | None = None
    direction_id: int | None = None
    stop_id: str | None = None
    # The sheet's point, else its stop's (GTFS), else None.
    point: tuple[float, float] | None = None
    priority: str = "P4"
    received_at: dt.datetime | None = None


@dataclass(frozen=True)
class Match:
    reasons: tuple[str, ...]
    strong: bool


def _minutes(delta: dt.timedelta) -> str:
    minutes = round(abs(delta.total_seconds()) / 60)
    return "moins d'une minute" if minutes < 1 else f"{minutes} min"


def compare(new: Report, other: Report, settings: Settings) -> Match | None:
    """Whether ``other`` may be the same event as ``new``, and why (in French)."""
    apart = new.occurred_at - other.occurred_at
    if abs(apart) > settings.window:
        return None
    common = sorted(family_of(new.natures) & family_of(other.natures))
    if not common:
        return None
    same_operator = new.operator == other.operator
    places: list[str] = []
    same_vehicle = bool(same_operator and new.vehicle_id and new.vehicle_id == other.vehicle_id)
    if same_vehicle:
        places.append(f"même véhicule ({new.vehicle_id})")
    if (
        same_operator
        and new.route_id
        and new.route_id == other.route_id
        and new.direction_id is not None
        and new.direction_id == other.direction_id
    ):
        places.append("même ligne, même sens")
    if same_operator and new.stop_id and new.stop_id == other.stop_id:
        places.append("même arrêt")
    if new.point is not None and other.point is not None:
        metres = distance_m(new.point[0], new.point[1], other.point[0], other.point[1])
        if metres <= settings.distance_m:
            places.append(f"à {round(metres)} m")
    if not places:
        return None
    reasons = (
        *places,
        f"à {_minutes(apart)} d'intervalle",
        f"même famille de faits : {', '.join(FAMILY_LABELS[f] for f in common)}",
    )
    if not same_operator:
        reasons = (*reasons, "signalé par un autre exploitant")
    return Match(reasons=reasons, strong=same_vehicle and abs(apart) <= STRONG_WITHIN)


def lead_of(members: Sequence[Report]) -> Report:
    """The group's lead: the highest priority, then the earliest received (so a P1 is
    never hidden behind a lower-priority lead)."""
    return min(
        members,
        key=lambda r: (
            PRIORITY_ORDER.index(r.priority) if r.priority in PRIORITY_ORDER else 9,
            r.received_at or r.occurred_at,
            r.id,
        ),
    )


def ordered(a: str, b: str) -> tuple[str, str]:
    """A pair's key: its two ids in order (one row per pair)."""
    return (a, b) if a < b else (b, a)
