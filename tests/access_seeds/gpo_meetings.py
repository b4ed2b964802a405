"""Seeds of the GPO meetings' rows: ``<meeting_id>`` is a planned meeting of
gpo-toulouse (the GPO problems' seeds, ``gpo.py``, run first, provide the GPO, its
partners and ``<problem_id>``). Rows that hold, close or decide act on a fresh meeting
(``fresh: gpo_meeting`` planned, ``fresh: gpo_held_meeting`` held with pm-toulouse
present), so the order of the callers does not matter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from intake_service.access.rules.permissions import Principal
from intake_service.gpo import meetings

REFERENT = Principal(role="gpo_referent", scope="gpo-toulouse", actor="test:referent (Toulouse)")
# What the bodies name (filled by ``seed``).
SEEDED: dict[str, str] = {}
LATER = "2030-01-15T14:00"


def _planned(setting: Any) -> str:
    db = setting.app.extensions["intake.db"]
    now = setting.clock.now
    with db.transaction() as session:
        meeting = meetings.plan_meeting(
            session,
            REFERENT,
            "gpo-toulouse",
            {"planned_at": now + dt.timedelta(days=7), "place": "Salle 2"},
            now,
        )
        return meeting.id


def _held(setting: Any) -> str:
    meeting_id = _planned(setting)
    db = setting.app.extensions["intake.db"]
    with db.transaction() as session:
        meetings.hold_meeting(
            session,
            REFERENT,
            "gpo-toulouse",
            meeting_id,
            {"present": ["pm-toulouse"], "minutes": "Point fait sur les jets de pierres."},
            setting.clock.now,
        )
    return meeting_id


def seed(setting: Any) -> dict[str, str]:
    SEEDED["problem_id"] = setting.values["problem_id"]
    return {"meeting_id": _planned(setting)}


FRESH = {
    "gpo_meeting": lambda setting: {"meeting_id": _planned(setting)},
    "gpo_held_meeting": lambda setting: {"meeting_id": _held(setting)},
}
BODIES = {
    "gpo_meeting_plan": (
        "json",
        lambda: {"planned_at": LATER + ":00+01:00", "place": "Commissariat central"},
    ),
    "gpo_meeting_hold": ("json", lambda: {"present": ["pm-toulouse"], "minutes": "Point fait."}),
    "gpo_meeting_decision": ("json", lambda: {"kind": "note", "text": "Suivi maintenu."}),
    "gpo_meeting_close": ("json", lambda: {"status": "cancelled"}),
    "gpo_meeting_evaluation": (
        "json",
        lambda: {
            "problem_id": SEEDED["problem_id"],
            "view": "improved",
            "partner_code": "pm-toulouse",
        },
    ),
    "gpo_meeting_form": (
        "form",
        lambda: {"planned_at": LATER, "place": "Commissariat central", "invited": ["pm-toulouse"]},
    ),
    "gpo_meeting_hold_form": ("form", lambda: {"present": ["pm-toulouse"], "minutes": "Fait."}),
    "gpo_meeting_decision_form": ("form", lambda: {"kind": "note", "text": "Suivi maintenu."}),
    "gpo_meeting_close_form": ("form", lambda: {"status": "skipped"}),
    "gpo_meeting_evaluation_form": (
        "form",
        lambda: {
            "problem_id": SEEDED["problem_id"],
            "view": "resolved",
            "partner_code": "pm-toulouse",
        },
    ),
}
