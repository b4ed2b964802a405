"""A queue row of the console, and the words it is made of: Paris times, ages, the
CCTV erase countdown, authors, places. The page and the live stream send the same row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    current_app,
    url_for,
)

from intake_service.access.rules.permissions import actor_name as who
from intake_service.intake import queries
from intake_service.intake.duplicates import GroupView
from intake_service.models import Incident
from intake_service.platform.clock import PARIS
from intake_service.platform.labels import (
    NATURE_LABELS,
    PLACE_LABELS,
    STATUS_LABELS,
)

# --- formatting ---------------------------------------------------------------------------


def paris(moment: dt.datetime | str | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
    """A UTC instant (or ISO text) as Paris local time."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        parsed = parse_instant(moment)
        if parsed is None:
            return moment
        moment = parsed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(PARIS).strftime(pattern)


def age_label(since: dt.datetime, now: dt.datetime) -> str:
    """How long ago, in words: 'il y a 12 min'."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 1:
        return "à l'instant"
    if minutes < 60:
        return f"il y a {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"il y a {hours} h {minutes:02d}"
    return f"il y a {hours // 24} j"


def countdown_label(deadline: dt.datetime, now: dt.datetime) -> str:
    """Time left before the footage is overwritten ('dans 2 j 4 h'), or that it has passed."""
    minutes = int((deadline - now).total_seconds() // 60)
    if minutes < 0:
        return "délai dépassé : les images sont sans doute effacées"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"effacement dans {days} j {hours} h"
    if hours:
        return f"effacement dans {hours} h {minutes:02d} min"
    return f"effacement dans {minutes} min"


def parse_instant(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def commune_name(insee_code: str | None) -> str | None:
    """The commune's name from the shared index (already loaded by routing)."""
    if not insee_code:
        return None
    from intake_service.territory.communes import shared_index

    try:
        commune = shared_index(current_app.extensions["intake.communes"].cache_dir).by_code(
            insee_code
        )
    except Exception:  # noqa: BLE001 - a name is a nicety: the code is shown instead
        return None
    return commune.name if commune is not None else None


# --- data ---------------------------------------------------------------------------------


def place_label(incident: Incident, names: queries.PlaceNames) -> str:
    """Where, in a few words: the stop, else the address, else the commune."""
    location = incident.sheet.get("location") or {}
    if names.stop:
        return names.stop
    if names.previous_stop and names.next_stop:
        return f"Entre {names.previous_stop} et {names.next_stop}"
    if location.get("address"):
        return str(location["address"])
    commune = commune_name(incident.insee_code)
    if commune:
        return commune
    return f"Commune {incident.insee_code}" if incident.insee_code else "Lieu non précisé"


SINGLE = GroupView()


def queue_row(
    incident: Incident,
    names: queries.PlaceNames,
    now: dt.datetime,
    requests: tuple[int, int] = (0, 0),
    group: GroupView = SINGLE,
) -> dict[str, Any]:
    """One line of the queue: what the page shows and what the live stream sends;
    ``requests`` counts the incident's open requests for information, and the late ones."""
    location = incident.sheet.get("location") or {}
    natures = list(incident.sheet.get("natures") or [incident.primary_nature])
    coordinates = location.get("coordinates") or {}
    point = (
        (coordinates["lat"], coordinates["lon"])
        if "lat" in coordinates and "lon" in coordinates
        else names.stop_point
    )
    return {
        # Where the console's map puts it (the sheet's point, else its stop's).
        "lat": point[0] if point else None,
        "lon": point[1] if point else None,
        "id": incident.id,
        "url": url_for("console.incident", incident_id=incident.id),
        "priority": incident.priority,
        "priority_rank": incident.priority_rank,
        "status": incident.status,
        "status_label": STATUS_LABELS.get(incident.status, incident.status),
        "escalated": incident.escalated_for is not None,
        "nature": incident.primary_nature,
        "nature_label": NATURE_LABELS.get(incident.primary_nature, incident.primary_nature),
        "natures": natures,
        "place": place_label(incident, names),
        "place_kind": PLACE_LABELS.get(location.get("place", ""), ""),
        "route_id": location.get("route_id") or "",
        "line": names.route or location.get("route_id") or "",
        "operator": incident.operator.name,
        "received_at": incident.received_at.isoformat(),
        "received_time": paris(incident.received_at, "%H:%M"),
        "age": age_label(incident.received_at, now),
        # The operator of the service who took it ("je prends"); every console shows it.
        "holder": who(incident.held_by) if incident.held_by else "",
        "held_time": paris(incident.held_at, "%H:%M") if incident.held_at else "",
        # The zone table does not cover the département: this service is a guess.
        "routing_assumed": incident.routing_confidence == "assumed",
        # Reports of one event: the lead's row stands for the group, the others hide.
        "group_lead": group.lead,
        "group_size": group.size,
        "duplicates_proposed": group.proposed,
        "requests_open": requests[0],
        "requests_overdue": requests[1],
        "requests_label": requests_label(*requests),
    }


def requests_label(asked: int, late: int) -> str:
    """``2 demandes d'information, dont 1 en retard`` (empty when none is open)."""
    if not asked:
        return ""
    label = f"{asked} demande{'s' if asked > 1 else ''} d'information"
    return f"{label}, dont {late} en retard" if late else label
