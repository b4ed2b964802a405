"""Two views of the same partner on the same problem at the same meeting, at once, on
PostgreSQL: the unique constraint holds one, the second replaces it (never a 500)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from sqlalchemy import select

from intake_service.access.rules.permissions import Principal
from intake_service.gpo import meetings
from intake_service.models import ProblemEvaluation
from tests.access_seeds.gpo_assessment import build_scenario
from tests.conftest import Clock

REFERENT = Principal(role="gpo_referent", scope="gpo-toulouse", actor="test:referent")
PARTNER = Principal(role="gpo_partner", scope="gpo-toulouse:pm-toulouse", actor="test:pm")


def test_simultaneous_views_keep_one_row(pg_app: Any, clock: Clock) -> None:
    db = pg_app.extensions["intake.db"]
    scenario = build_scenario(pg_app, clock.now)
    with db.transaction() as session:
        meeting = meetings.plan_meeting(
            session,
            REFERENT,
            "gpo-toulouse",
            {"planned_at": clock.now + dt.timedelta(hours=1), "place": "Salle 2"},
            clock.now,
        )
        meetings.hold_meeting(
            session, REFERENT, "gpo-toulouse", meeting.id, {"present": ["pm-toulouse"]}, clock.now
        )
        meeting_id = meeting.id
    first_written = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with db.transaction() as session:
                meetings.record_evaluation(
                    session,
                    PARTNER,
                    "gpo-toulouse",
                    meeting_id,
                    {"problem_id": scenario.problem_id, "view": "improved"},
                    clock.now,
                )
                first_written.set()
                time.sleep(0.5)  # the second one waits on the unique index meanwhile
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    assert first_written.wait(10)
    with db.transaction() as session:
        meetings.record_evaluation(
            session,
            PARTNER,
            "gpo-toulouse",
            meeting_id,
            {"problem_id": scenario.problem_id, "view": "resolved", "comment": "Plus rien."},
            clock.now,
        )
    thread.join(10)
    assert errors == []
    with db.transaction() as session:
        (view,) = session.scalars(select(ProblemEvaluation)).all()
        assert (view.view, view.comment) == ("resolved", "Plus rien.")
