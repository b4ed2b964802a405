"""Test data of the exports (issue 16): sheets over several days and months, for two
operators and two services, moved through the command centre's lifecycle over the API.

The clock is moved for each sheet, so ``received_at`` is the clock's; the sheets are
``over`` (no time bound but the six years), so any instant suits them. Their victims
carry the planted identities of ``tests.factories.BASE_SHEET`` ("Agent Fictif", its
phone) and their narrative, so an export that leaked them would show it.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from intake_service.access.tokens import create_token
from intake_service.territory import zones
from tests.conftest import Clock
from tests.factories import a_sheet, create_tokens

ZONES = [("31555", "ddsp-31", "DIPN 31"), ("83137", "ddsp-83", "DIPN 83")]
TOULOUSE = {"lat": 43.60445, "lon": 1.44406, "accuracy_m": 20, "source": "gps"}
TOULON = {"lat": 43.1242, "lon": 5.9280, "accuracy_m": 20, "source": "gps"}

STAFF = {
    "kind": "staff",
    "staff_function": "driver",
    "on_duty": True,
    "injury": "minor",
    "wants_to_file_complaint": "yes",
    "contact": {"name": "Agent Fictif", "phone": "06 12 34 56 78"},
}
PASSENGER = {
    "kind": "passenger",
    "injury": "minor",
    "contact": {"name": "Voyageuse Témoin", "phone": "06 98 76 54 32"},
}
# The identities planted in the sheets: none may appear in any export.
IDENTITIES = (
    "Agent Fictif",
    "06 12 34 56 78",
    "+33612345678",
    "Voyageuse Témoin",
    "+33698765432",
    "PC sûreté Tisséo",
    "+33561000017",
    "Veste rouge",
    "frappé par un voyageur",
)

Headers = dict[str, dict[str, str]]


def tokens(db: Any, now: dt.datetime) -> Headers:
    """``create_tokens``' roles, ddsp-83's command centre, and the two police zones."""
    headers = create_tokens(db, now)
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
        made = create_token(session, "command_centre", "ddsp-83", "test ddsp-83", now=now)
        headers["command_centre_83"] = {"Authorization": f"Bearer {made.secret}"}
    return headers


def sheet(
    reference: str,
    occurred_at: dt.datetime,
    *,
    natures: tuple[str, ...] = ("threat_or_insult_staff",),
    victims: tuple[dict[str, Any], ...] = (STAFF,),
    route_id: str | None = "line:142",
    insee_code: str = "31555",
) -> dict[str, Any]:
    """An ``over`` sheet: on board ``route_id`` (or on a platform without line)."""
    made = a_sheet(
        reference,
        state="over",
        occurred_at=occurred_at.isoformat(),
        natures=list(natures),
        primary_nature=natures[0],
        victims=[copy.deepcopy(v) for v in victims],
        video={"exists": "no"},
        injuries={"count": 1, "severity": "minor"} if victims else {"count": 0, "severity": "none"},
    )
    location = made["location"]
    location["insee_code"] = insee_code
    location["coordinates"] = dict(TOULON if insee_code == "83137" else TOULOUSE)
    if route_id is None:
        for key in ("route_id", "vehicle_id", "direction_id"):
            location.pop(key, None)
        location["place"] = "platform"
    else:
        location["route_id"] = route_id
    return made


def submit_at(
    client: Any,
    clock: Clock,
    at: dt.datetime,
    headers: dict[str, str],
    made: dict[str, Any],
) -> str:
    """Submit ``made`` with the clock at ``at``; the incident's id."""
    clock.now = at
    response = client.post("/api/v1/incidents", json=made, headers=headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def move(
    client: Any,
    clock: Clock,
    at: dt.datetime,
    headers: dict[str, str],
    incident_id: str,
    **body: Any,
) -> None:
    """A command centre's action on the incident with the clock at ``at``."""
    clock.now = at
    response = client.post(f"/api/v1/incidents/{incident_id}/status", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
