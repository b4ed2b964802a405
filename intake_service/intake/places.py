"""Where an incident is, checked against the operator's GTFS feed, and who is competent there.

The commune comes from the stop (its coordinates, resolved at GTFS import), else
from the coordinates, else from the INSEE code the sheet gives; the police-zone
table then decides the service (``routing.competent_service``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.intake.rules.warnings import SheetWarning
from intake_service.models import PoliceZone
from intake_service.platform.geo import distance_m
from intake_service.territory import gtfs
from intake_service.territory.rules.routing import (
    DEPARTMENTS,
    PREFECTURE_DE_POLICE,
    CompetentService,
    PoliceZoneEntry,
    Routing,
    competent_service,
    department_of,
    routing_confidence,
)

STOP_DISTANCE_WARNING_M = 500.0


class CommuneLocator(Protocol):
    """What routing needs of the commune index (``communes.CommuneIndex``)."""

    def commune_at(self, lat: float, lon: float) -> str | None: ...

    def commune_exists(self, insee_code: str) -> bool: ...


class SharedCommunes:
    """The process-wide commune index, loaded on first use (not at start-up)."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir

    def commune_at(self, lat: float, lon: float) -> str | None:
        from intake_service.territory.communes import shared_index

        match = shared_index(self.cache_dir).lookup(lat, lon)
        return match.commune.insee_code if match else None

    def commune_exists(self, insee_code: str) -> bool:
        from intake_service.territory.communes import shared_index

        return shared_index(self.cache_dir).by_code(insee_code) is not None


@dataclass
class PlaceCheck:
    routing: Routing
    warnings: list[SheetWarning] = field(default_factory=list)


class ZoneLookup(Protocol):
    """Where the police-zone table is read (``reference_cache.ReferenceCache``)."""

    def zone(self, session: Session, insee_code: str) -> PoliceZoneEntry | None: ...

    def covers(self, session: Session, department: str) -> bool: ...


def check_place(
    session: Session,
    operator_id: int,
    location: Mapping[str, Any],
    locator: CommuneLocator,
    zones: ZoneLookup,
) -> PlaceCheck:
    """Check the location against the operator's feed and route the incident.

    Raises marshmallow.ValidationError (paths under ``location``) for a route or
    stop the operator's imported feed does not have.
    """
    warnings: list[SheetWarning] = []
    errors: dict[str, list[str]] = {}
    stop: Any = None
    route_id = location.get("route_id")
    if route_id is not None and not gtfs.route_exists(session, operator_id, route_id):
        errors["route_id"] = ["No such route_id in your imported GTFS feed."]
    for key in ("stop_id", "previous_stop_id", "next_stop_id"):
        stop_id = location.get(key)
        if stop_id is None:
            continue
        found = gtfs.find_stop(session, operator_id, stop_id)
        if found is None:
            errors[key] = ["No such stop_id in your imported GTFS feed."]
        elif stop is None:
            stop = found
    # Unknown ids are errors only against an imported feed; the feed is looked up
    # only then, so a sheet that names its stop costs no extra query.
    if errors and gtfs.has_feed(session, operator_id):
        raise ValidationError({"location": errors})
    if stop is not None:
        stop_id = location.get("stop_id")
        served = (
            gtfs.route_serves_stop(session, operator_id, route_id, stop_id)
            if route_id is not None and stop_id is not None
            else None
        )
        if served is False:  # None: the feed does not say which stops the route serves
            warnings.append(
                {
                    "code": "stop_not_served_by_route",
                    "field": "location.stop_id",
                    "message": "This stop is not served by this route in your GTFS feed.",
                }
            )
    coordinates = location.get("coordinates")
    if stop is not None and coordinates and stop.lat is not None and stop.lon is not None:
        apart = distance_m(coordinates["lat"], coordinates["lon"], stop.lat, stop.lon)
        if apart > STOP_DISTANCE_WARNING_M:
            warnings.append(
                {
                    "code": "point_far_from_stop",
                    "field": "location.coordinates",
                    "message": f"The point is {apart:.0f} m from the stop; check one or the other.",
                }
            )

    insee_code, basis = None, None
    if stop is not None and stop.insee_code:
        insee_code, basis = stop.insee_code, "stop"
    elif coordinates:
        insee_code = locator.commune_at(coordinates["lat"], coordinates["lon"])
        basis = "coordinates" if insee_code else None
    given = location.get("insee_code")
    if insee_code is None and given is not None:
        if locator.commune_exists(given):
            insee_code, basis = given, "insee_code"
        else:
            warnings.append(
                {
                    "code": "unknown_insee_code",
                    "field": "location.insee_code",
                    "message": "No commune has this INSEE code; the sheet could not be routed.",
                }
            )
    elif insee_code is not None and given is not None and given != insee_code:
        warnings.append(
            {
                "code": "insee_code_differs",
                "field": "location.insee_code",
                "message": f"The {basis} is in commune {insee_code}; routed there.",
            }
        )
    if insee_code is None:
        warnings.append(
            {
                "code": "unrouted",
                "field": "location",
                "message": "The place could not be tied to a commune: the sheet goes to the "
                "national fallback feed.",
            }
        )
        return PlaceCheck(Routing(None, None, None), warnings)
    entry = zones.zone(session, insee_code)
    department = department_of(insee_code)
    service = competent_service(insee_code, entry)
    # The coverage lookup only for a gendarmerie routing: a police one is certain.
    covered = service.kind != "gendarmerie" or zones.covers(session, department)
    confidence = routing_confidence(service, covered)
    if confidence == "assumed":
        warnings.append(
            {
                "code": "routing_assumed",
                "field": "location",
                "message": f"The police-zone table does not cover département {department}: "
                f"routed to {service.name}, which may not be competent.",
            }
        )
    return PlaceCheck(Routing(service, insee_code, basis, confidence), warnings)


def service_for_code(session: Session, code: str) -> CompetentService | None:
    """The service a command centre names when it redirects an incident."""
    if code == PREFECTURE_DE_POLICE[0]:
        return CompetentService("prefecture_de_police", *PREFECTURE_DE_POLICE)
    department = code.removeprefix("ggd-").upper()
    if code.startswith("ggd-") and department in DEPARTMENTS:
        return CompetentService(
            "gendarmerie", code, f"Groupement de gendarmerie départementale {department}"
        )
    zone = session.scalar(select(PoliceZone).where(PoliceZone.service_code == code).limit(1))
    return CompetentService("police", code, zone.service_name) if zone else None
