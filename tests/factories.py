"""Builders of test data: a valid sheet, tokens for each role."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from intake_service.access.tokens import create_token
from intake_service.demo import OPERATORS
from intake_service.platform.db import Database
from intake_service.territory.operators import add_operator

BASE_SHEET: dict[str, Any] = {
    "operator_reference": "TSO-2026-000123",
    "channel": "silent_alarm",
    "reported_by": {
        "role": "security_control_room",
        "name": "PC sûreté Tisséo",
        "callback_phone": "05 61 00 00 17",
    },
    "occurred_at": "2026-03-14T18:24:00+01:00",
    "state": "in_progress",
    "natures": ["physical_assault_staff", "threat_or_insult_staff"],
    "primary_nature": "physical_assault_staff",
    "narrative": "Le conducteur de la ligne 13 est frappé par un voyageur refusant de valider.",
    "location": {
        "mode": 3,
        "place": "on_board",
        "route_id": "line:142",
        "direction_id": 0,
        "stop_id": "stop_point:SP_1121",
        "vehicle_id": "1742",
        "coordinates": {"lat": 43.58391, "lon": 1.44349, "accuracy_m": 15, "source": "avl"},
    },
    "injuries": {"count": 1, "severity": "minor"},
    "emergency_services_called": False,
    "suspects": {"count": 1, "status": "on_site", "weapon": "none", "description": "Veste rouge."},
    "victims": [
        {
            "kind": "staff",
            "staff_function": "driver",
            "on_duty": True,
            "injury": "minor",
            "wants_to_file_complaint": "yes",
            "contact": {"name": "Agent Fictif", "phone": "06 12 34 56 78"},
            "consents": {"appointment_contact": True},
        }
    ],
    "witnesses_count": 3,
    "video": {
        "exists": "yes",
        "sources": ["on_board"],
        "erased_after": "2026-03-21T18:24:00+01:00",
    },
}


def a_sheet(reference: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid in-progress sheet (P1 at the reference instant).

    ``changes`` replace top-level keys.
    """
    sheet = copy.deepcopy(BASE_SHEET)
    if reference is not None:
        sheet["operator_reference"] = reference
    sheet.update(changes)
    return sheet


ROLE_SCOPES = {
    "operator": "tisseo",
    "other_operator": "mistral",
    "command_centre": "ddsp-31",
    "gpo_referent": "gpo-toulouse",
    "gpo_partner": "gpo-toulouse",
    "station_officer": "csp-toulouse",
    "admin": "*",
    "national": "*",
    "departement": "31",
}


def create_tokens(db: Database, now: dt.datetime) -> dict[str, dict[str, str]]:
    """Operators tisseo and mistral, and an Authorization header per role.

    ``other_operator`` is mistral's operator token.
    """
    headers: dict[str, dict[str, str]] = {}
    with db.transaction() as session:
        for code, name in OPERATORS:
            add_operator(session, code, name, now=now)
        for key, scope in ROLE_SCOPES.items():
            role = "operator" if key == "other_operator" else key
            new = create_token(session, role, scope, f"test {key}", now=now)
            headers[key] = {"Authorization": f"Bearer {new.secret}"}
    return headers


def submit_in_toulouse(
    client: Any, headers: dict[str, dict[str, str]], reference: str = "TIS-1", **changes: Any
) -> str:
    """Submit ``a_sheet`` as tisseo, in Toulouse (31555: ddsp-31 once the zones say so);
    the incident's id."""
    sheet = a_sheet(reference, **changes)
    sheet["location"]["insee_code"] = "31555"
    response = client.post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])
