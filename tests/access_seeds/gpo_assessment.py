"""Seeds of the assessment and meeting-brief rows, and the scenario their tests share.

The matrix's rows use ``<problem_id>`` and ``<gpo_code>`` (gpo-toulouse): the GPO
problems' seeds (``gpo.py``, run first) provide them; ``seed`` makes its own only
when they are absent.

``build_scenario`` makes, relative to ``now``, a problem of gpo-toulouse (projectiles
at the Capitole stop of Tisséo's demo feed) with incidents before and after its
first action, one linked, one of another nature, actions late, due and done, and
a meeting in its journal ten days ago. Every incident carries personal data that
must never reach a partner (``PERSONAL``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from intake_service.access.rules.permissions import Principal
from intake_service.access.tokens import create_token
from intake_service.demo import GTFS_FEEDS
from intake_service.gpo import actions, gpos, links, problems
from intake_service.gpo.rules.weekly_figures import paris_day
from intake_service.models import GtfsStop, Operator
from intake_service.territory import zones
from intake_service.territory.gtfs import import_feed
from intake_service.territory.gtfs_feed import read_feed
from intake_service.territory.operators import add_operator
from tests.factories import a_sheet

TOULOUSE = "gpo-toulouse"
VAR = "gpo-var"
REFERENT = Principal(role="gpo_referent", scope=TOULOUSE, actor="test:referent (Toulouse)")
VAR_REFERENT = Principal(role="gpo_referent", scope=VAR, actor="test:referent (Var)")
SCOPE = {
    "operators": ["tisseo"],
    "stops": [{"operator": "tisseo", "stop_id": "demo:SA_capitole"}],
    "natures": ["projectile"],
}
TITLE = "Jets de pierres sur la ligne A à Capitole"

# Personal data written in the sheets: none of it may be in the partners' brief.
VICTIM_NAME = "Mireille Vautrin-Lacoste"
VICTIM_PHONE = "06 71 23 45 67"
VICTIM_PHONE_E164 = "+33671234567"
VICTIM_EMAIL = "mireille.vautrin@example.org"
REPORTER_NAME = "Bastien Roucayrol"
REPORTER_PHONE = "06 98 76 54 32"
REPORTER_PHONE_E164 = "+33698765432"
SUSPECT_DESCRIPTION = "Blouson kaki à capuche, tatouage de scorpion sur la main gauche"
ADDRESS = "12 rue Lafayette"
VEHICLE_ID = "VEH-4471"
NARRATIVE = "Un voyageur signale que Zéphyrin Castagnède a lancé des pierres sur la rame {tag}."
PERSONAL = (
    VICTIM_NAME,
    "Vautrin",
    VICTIM_PHONE,
    VICTIM_PHONE_E164,
    "0671234567",
    VICTIM_EMAIL,
    REPORTER_NAME,
    "Roucayrol",
    REPORTER_PHONE,
    REPORTER_PHONE_E164,
    "0698765432",
    SUSPECT_DESCRIPTION,
    "scorpion",
    ADDRESS,
    VEHICLE_ID,
    "Zéphyrin",
    "Castagnède",
    "43.6044",  # the sheets' coordinates
)


def _sheet(reference: str, occurred_at: dt.datetime, nature: str, tag: str) -> dict[str, Any]:
    return a_sheet(
        reference,
        occurred_at=occurred_at.isoformat(),
        state="over",
        natures=[nature],
        primary_nature=nature,
        narrative=NARRATIVE.format(tag=tag),
        reported_by={
            "role": "driver",
            "name": REPORTER_NAME,
            "callback_phone": REPORTER_PHONE,
        },
        location={
            "mode": 1,
            "place": "on_board",
            "route_id": "demo:A",
            "stop_id": "demo:SP_capitole_A",
            "vehicle_id": VEHICLE_ID,
            "insee_code": "31555",
            "address": ADDRESS,
            "coordinates": {"lat": 43.60443, "lon": 1.44557, "accuracy_m": 10, "source": "gps"},
        },
        suspects={
            "count": 1,
            "status": "fled",
            "flight_direction": "Vers la place",
            "weapon": "object",
            "description": SUSPECT_DESCRIPTION,
        },
        victims=[
            {
                "kind": "staff",
                "staff_function": "driver",
                "on_duty": True,
                "injury": "minor",
                "wants_to_file_complaint": "yes",
                "contact": {"name": VICTIM_NAME, "phone": VICTIM_PHONE, "email": VICTIM_EMAIL},
            }
        ],
        injuries={"count": 1, "severity": "minor"},
        video={"exists": "no"},
    )


@dataclass
class Scenario:
    problem_id: str
    var_problem_id: str
    meeting_date: dt.date
    pivot: dt.date
    incident_ids: dict[str, str] = field(default_factory=dict)


def make_gpos(session: Any, now: dt.datetime) -> None:
    gpos.add_gpo(session, TOULOUSE, "GPO transports Toulouse", ["ddsp-31"], ["tisseo"], False, now)
    gpos.add_partner(session, TOULOUSE, "pm-toulouse", "Police municipale de Toulouse")
    gpos.add_partner(session, TOULOUSE, "tisseo", "Tisséo Réseau")
    gpos.add_gpo(session, VAR, "GPO transports Var", ["ddsp-83"], ["mistral"], False, now)


def build_scenario(app: Flask, now: dt.datetime) -> Scenario:
    """The problem, its incidents (posted over HTTP), link, actions and last meeting."""
    db = app.extensions["intake.db"]
    today = paris_day(now)
    pivot = today - dt.timedelta(days=21)
    with db.transaction() as session:
        for code, name in (("tisseo", "Tisséo"), ("mistral", "Réseau Mistral")):
            add_operator(session, code, name, now=now)
        tisseo = session.scalar(select(Operator).where(Operator.code == "tisseo"))
        assert tisseo is not None
        if session.get(GtfsStop, (tisseo.id, "demo:SP_capitole_A")) is None:
            import_feed(
                session,
                "tisseo",
                read_feed(dict(GTFS_FEEDS)["tisseo"]),
                source="test",
                now=now,
                commune_of=lambda lat, lon: None,
            )
        zones.replace_zones(
            session, [("31555", "ddsp-31", "DIPN 31"), ("83137", "ddsp-83", "DIPN 83")]
        )
        make_gpos(session, now)
        token = create_token(session, "operator", "tisseo", "test scenario", now=now).secret
        problem = problems.create_problem(
            session,
            REFERENT,
            TOULOUSE,
            {"title": TITLE, "description": "Le soir.", "scope": SCOPE, "state": "analysis"},
            now,
        )
        var_problem = problems.create_problem(
            session, VAR_REFERENT, VAR, {"title": "Tags à Toulon", "scope": {}}, now
        )
        scenario = Scenario(problem.id, var_problem.id, today, pivot)

    client = app.test_client()
    noon = dt.time(12, tzinfo=dt.UTC)
    plan = {
        # name: (day, nature)
        "before-1": (pivot - dt.timedelta(days=15), "projectile"),
        "before-2": (pivot - dt.timedelta(days=8), "projectile"),
        "new-linked": (today - dt.timedelta(days=7), "projectile"),
        "new": (today - dt.timedelta(days=3), "projectile"),
        "other-nature": (today - dt.timedelta(days=5), "theft"),
    }
    for name, (day, nature) in plan.items():
        sheet = _sheet(
            f"ASSESS-{scenario.problem_id[:8]}-{name}", dt.datetime.combine(day, noon), nature, name
        )
        response = client.post(
            "/api/v1/incidents", json=sheet, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, response.get_json()
        scenario.incident_ids[name] = response.get_json()["id"]

    with db.transaction() as session:
        links.link(session, REFERENT, scenario.problem_id, scenario.incident_ids["new-linked"], now)
        for what, starts_on, due_on, status in (
            ("Patrouilles renforcées le soir", pivot, today - dt.timedelta(days=2), "in_progress"),
            ("Intervention au collège voisin", None, today + dt.timedelta(days=5), "planned"),
            ("Nettoyage des abords", pivot + dt.timedelta(days=3), pivot, "done"),
        ):
            actions.add_action(
                session,
                REFERENT,
                scenario.problem_id,
                {
                    "what": what,
                    "owner_partner": "pm-toulouse",
                    "starts_on": starts_on,
                    "due_on": due_on,
                    "status": status,
                },
                now,
            )
        problems.add_journal_entry(
            session,
            REFERENT,
            scenario.problem_id,
            {"kind": "meeting", "text": "Réunion du GPO.", "at": now - dt.timedelta(days=10)},
            now,
        )
    return scenario


def seed(setting: Any) -> dict[str, str]:
    """The matrix's ``<problem_id>`` and ``<gpo_code>``, unless already seeded."""
    if "problem_id" in setting.values and "gpo_code" in setting.values:
        return {}
    db = setting.app.extensions["intake.db"]
    with db.transaction() as session:
        make_gpos(session, setting.clock.now)
        problem = problems.create_problem(
            session, REFERENT, TOULOUSE, {"title": TITLE, "scope": SCOPE}, setting.clock.now
        )
        return {"gpo_code": TOULOUSE, "problem_id": problem.id}
