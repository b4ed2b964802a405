"""Seeds of the links' rows: proposals and confirmed links of gpo-toulouse's problem.

Uses the problem that ``tests/access_seeds/gpo.py`` seeds (``<problem_id>``). Rows that
decide a link act on a fresh incident of tisseo, proposed (``fresh: gpo_proposal``) or
linked (``fresh: gpo_linked``) to that problem: ``<linked_incident_id>``. The manual
link and the emerging-problem bodies name the matrix's seeded incident (tisseo, ddsp-31);
the manual link form, that problem.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from intake_service.models import Problem, ProblemLink

SEEDED: dict[str, str] = {}


def _problem_id(setting: Any) -> str:
    found = setting.values.get("problem_id")
    if found:
        return str(found)
    db = setting.app.extensions["intake.db"]
    with db.reading() as session:
        return str(
            session.scalars(
                select(Problem.id).where(Problem.gpo_code == "gpo-toulouse").order_by(Problem.id)
            ).first()
        )


def _link(setting: Any, state: str) -> dict[str, str]:
    incident_id = setting.new_incident()
    problem_id = _problem_id(setting)
    now: dt.datetime = setting.clock.now
    db = setting.app.extensions["intake.db"]
    with db.transaction() as session:
        link = session.scalar(
            select(ProblemLink).where(
                ProblemLink.problem_id == problem_id, ProblemLink.incident_id == incident_id
            )
        )
        if link is None:  # the linker does not run in the matrix
            link = ProblemLink(
                problem_id=problem_id,
                incident_id=incident_id,
                origin="matcher",
                reasons=[{"dimension": "stop", "text": "même arrêt"}],
                strong=False,
                created_at=now,
            )
            session.add(link)
        link.state = state
    return {"problem_id": problem_id, "linked_incident_id": incident_id}


def seed(setting: Any) -> dict[str, str]:
    SEEDED["incident_id"] = setting.incident_id
    seeded = _link(setting, "proposed")
    SEEDED["problem_id"] = seeded["problem_id"]
    return seeded


FRESH = {
    "gpo_proposal": lambda setting: _link(setting, "proposed"),
    "gpo_linked": lambda setting: _link(setting, "confirmed"),
}
BODIES = {
    "gpo_manual_link": ("json", lambda: {"incident_id": SEEDED["incident_id"]}),
    "gpo_reject": ("json", lambda: {"reason": "Sans rapport."}),
    "gpo_cluster": (
        "json",
        lambda: {"family": "persons", "incident_ids": [SEEDED["incident_id"]]},
    ),
    "gpo_reject_form": ("form", lambda: {"motif": "Sans rapport."}),
    "gpo_cluster_form": ("form", lambda: {"famille": "persons", "incident": SEEDED["incident_id"]}),
    "gpo_manual_link_form": ("form", lambda: {"probleme": SEEDED["problem_id"]}),
}
