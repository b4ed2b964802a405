"""Test data of the directory: the Toulouse and Toulon setting, entities and their bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from intake_service.directory.rules.notices import NOTICE_KINDS
from intake_service.gpo import gpos
from intake_service.models import DirectoryEntity, DirectoryReferent
from intake_service.platform.db import Database
from intake_service.territory import zones
from tests.appointment_data import add_station
from tests.factories import a_sheet, create_tokens

ZONES = [("31555", "ddsp-31", "DIPN 31"), ("83137", "ddsp-83", "DIPN 83")]
# A referent's contacts, as sent and as stored.
REFERENT = {
    "name": "Capitaine Claire Dupont",
    "function": "Chef de salle du CIC",
    "phone": "05 61 12 77 77",
    "email": "claire.dupont@ddsp31.example.org",
}


def toulouse_sheet(reference: str, **changes: Any) -> dict[str, Any]:
    """A valid P1 sheet in Toulouse (31555): routed to ddsp-31."""
    sheet = a_sheet(reference, **changes)
    sheet["location"]["insee_code"] = "31555"
    return sheet


def setting(app: Flask, now: dt.datetime) -> dict[str, dict[str, str]]:
    """Operators tisseo and mistral with a token per role; the zones of ddsp-31 and
    ddsp-83; csp-toulouse (ddsp-31); gpo-toulouse (ddsp-31, tisseo) with pm-toulouse;
    and a tisseo incident routed to ddsp-31. Returns the tokens' headers."""
    db: Database = app.extensions["intake.db"]
    headers = create_tokens(db, now)
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
        gpos.add_gpo(session, "gpo-toulouse", "GPO Toulouse", ["ddsp-31"], ["tisseo"], False, now)
        gpos.add_partner(session, "gpo-toulouse", "pm-toulouse", "Police municipale de Toulouse")
    add_station(db, now)
    response = app.test_client().post(
        "/api/v1/incidents", json=toulouse_sheet("TSO-DIR-1"), headers=headers["operator"]
    )
    assert response.status_code == 201, response.get_json()
    return headers


def add_entity(
    db: Database,
    kind: str,
    code: str,
    now: dt.datetime,
    *,
    mailbox: str | None = None,
    notices: list[str] | None = None,
    digest: bool = False,
    referents: list[dict[str, Any]] | None = None,
) -> None:
    """An entity of the directory, written directly (all notices by default)."""
    with db.transaction() as session:
        session.add(
            DirectoryEntity(
                kind=kind,
                code=code,
                name=f"{kind} {code}",
                mailbox=mailbox if mailbox is not None else f"{code}@boites.example.org",
                hours="24 h/24",
                notices=list(NOTICE_KINDS) if notices is None else notices,
                digest=digest,
                created_at=now,
                updated_at=now,
                version=1,
                referents=[
                    DirectoryReferent(position=i, **referent)
                    for i, referent in enumerate(referents or [])
                ],
            )
        )


def entity_body(**changes: Any) -> dict[str, Any]:
    """A valid PUT body."""
    body: dict[str, Any] = {
        "name": "CIC de la DIPN 31",
        "mailbox": "cic@ddsp31.example.org",
        "hours": "24 h/24, 7 j/7",
        "notices": ["urgent_incident", "escalation"],
        "digest": False,
        "referents": [dict(REFERENT)],
    }
    body.update(changes)
    return body
