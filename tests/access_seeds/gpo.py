"""Seeds of the GPO problems' rows: two GPOs, a partner, a problem of each, an action.

The matrix's referent and partner are of ``gpo-toulouse`` (the partner's scope names
no partner organisation, so it owns no action). ``<problem_id>`` is a problem of
gpo-toulouse; ``<action_id>`` an action of it. Rows that change a problem's state act
on a fresh problem (``fresh: gpo_problem``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal, gpo_of
from intake_service.gpo import actions, gpos, problems

TOULOUSE = "gpo-toulouse"
VAR = "gpo-var"
REFERENT = Principal(role="gpo_referent", scope=TOULOUSE, actor="test:referent (Toulouse)")
VAR_REFERENT = Principal(role="gpo_referent", scope=VAR, actor="test:referent (Var)")
SCOPE = {
    "operators": ["tisseo"],
    "routes": [{"operator": "tisseo", "route_id": "line:14"}],
    "stops": [{"operator": "tisseo", "stop_id": "stop_area:SA_jeanne-darc"}],
    "natures": ["projectile"],
    "weekdays": [4, 5],
    "hours": {"from": 18, "to": 2},
}
_titles = itertools.count(1)


def make_gpos(session: Session, now: dt.datetime) -> None:
    """gpo-toulouse (ddsp-31, tisseo) with its partners, and gpo-var (ddsp-83, mistral)."""
    gpos.add_gpo(session, TOULOUSE, "GPO transports Toulouse", ["ddsp-31"], ["tisseo"], False, now)
    for code, name in (
        ("pm-toulouse", "Police municipale de Toulouse"),
        ("tisseo", "Tisséo Réseau"),
        ("smtc", "Tisséo Collectivités"),
    ):
        gpos.add_partner(session, TOULOUSE, code, name)
    gpos.add_gpo(session, VAR, "GPO transports Var", ["ddsp-83"], ["mistral"], False, now)
    gpos.add_partner(session, VAR, "pm-toulon", "Police municipale de Toulon")


def make_problem(
    session: Session, now: dt.datetime, principal: Principal = REFERENT, **data: Any
) -> str:
    gpo = gpo_of(principal)
    body = {
        "title": f"Jets de pierres n° {next(_titles)}",
        "description": "Jets de pierres sur les bus le soir.",
        "scope": SCOPE,
        "partners": ["pm-toulouse"] if gpo == TOULOUSE else [],
        **data,
    }
    return problems.create_problem(session, principal, str(gpo), body, now).id


def seed(setting: Any) -> dict[str, str]:
    db = setting.app.extensions["intake.db"]
    now = setting.clock.now
    with db.transaction() as session:
        make_gpos(session, now)
        problem_id = make_problem(session, now)
        action = actions.add_action(
            session,
            REFERENT,
            problem_id,
            {"what": "Patrouilles le soir", "owner_partner": "pm-toulouse"},
            now,
        )
        make_problem(session, now, VAR_REFERENT)
    return {"gpo_code": TOULOUSE, "problem_id": problem_id, "action_id": str(action.id)}


def _fresh_problem(setting: Any) -> dict[str, str]:
    db = setting.app.extensions["intake.db"]
    with db.transaction() as session:
        return {"problem_id": make_problem(session, setting.clock.now)}


FRESH = {"gpo_problem": _fresh_problem}
BODIES = {
    "gpo_problem": ("json", lambda: {"title": "Vols à l'arraché", "scope": SCOPE}),
    "gpo_problem_patch": ("json", lambda: {"description": "Précisé en réunion."}),
    "gpo_transition": ("json", lambda: {"to": "qualified"}),
    "gpo_action": ("json", lambda: {"what": "Vidéoprotection", "owner_partner": "tisseo"}),
    "gpo_action_patch": ("json", lambda: {"status": "in_progress"}),
    "gpo_journal": ("json", lambda: {"kind": "meeting", "text": "Réunion du GPO."}),
    "gpo_problem_form": (
        "form",
        lambda: {
            "title": "Vols à l'arraché à Capitole",
            "natures": ["violent_theft"],
            "stops": ["tisseo|demo:SA_capitole"],
            "hours_from": "18",
            "hours_to": "2",
        },
    ),
    "gpo_transition_form": ("form", lambda: {"to": "qualified"}),
    "gpo_action_form": (
        "form",
        lambda: {"what": "Vidéoprotection", "owner_partner": "tisseo", "status": "planned"},
    ),
    "gpo_journal_form": ("form", lambda: {"kind": "decision", "text": "Patrouilles le soir."}),
}
