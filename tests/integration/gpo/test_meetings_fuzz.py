"""Schema-driven fuzzing of the GPO meetings' API as the GPO's referent, on SQLite and
PostgreSQL: every generated request (bodies, ids, dates) answers as the OpenAPI
document says, never a 5xx. Path ids are a real planned or held meeting of the GPO
half of the time, so the fuzzing reaches past the 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st

from intake_service.access.rules.permissions import Principal
from intake_service.access.tokens import create_token
from intake_service.gpo import meetings
from tests.access_seeds.gpo_assessment import build_scenario
from tests.integration.intake.test_api_fuzz import (
    DOCUMENT,
    EXCLUDED_CHECKS,
    FUZZ_SETTINGS,
    AppUnderTest,
)

APP_UNDER_TEST = AppUnderTest()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = APP_UNDER_TEST
MEETINGS = r"^/api/v1/gpos/\{gpo_code\}/meetings"
SEEDED = ["seeded-planned", "seeded-held"]
REFERENT = Principal(role="gpo_referent", scope="gpo-toulouse", actor="test:fuzz")


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    parameters = dict(path_parameters or {})
    gpo = st.just({**parameters, "gpo_code": "gpo-toulouse"}) | st.just(parameters)
    if "meeting_id" not in parameters:
        return gpo
    return gpo.flatmap(
        lambda chosen: (
            st.sampled_from(SEEDED).map(lambda seeded: {**chosen, "meeting_id": seeded})
            | st.just(chosen)
        )
    )


@pytest.fixture
def api(app: Any, db: Any, clock: Any) -> dict[str, Any]:
    build_scenario(app, clock.now)
    ids = {}
    with db.transaction() as session:
        token = create_token(session, "gpo_referent", "gpo-toulouse", "fuzz", now=clock.now)
        for name in SEEDED:
            meeting = meetings.plan_meeting(
                session,
                REFERENT,
                "gpo-toulouse",
                {"planned_at": clock.now + dt.timedelta(days=2), "place": "Salle 2"},
                clock.now,
            )
            ids[name] = meeting.id
        meetings.hold_meeting(
            session,
            REFERENT,
            "gpo-toulouse",
            ids["seeded-held"],
            {"present": ["pm-toulouse"]},
            clock.now,
        )
    APP_UNDER_TEST.app = app
    return {"headers": {"Authorization": f"Bearer {token.secret}"}, "ids": ids}


@pytest.mark.slow
@schema.include(path_regex=MEETINGS).parametrize()
@FUZZ_SETTINGS
def test_meetings_api_as_the_referent_conforms_to_its_openapi_document(
    case: Any, api: dict[str, Any]
) -> None:
    meeting_id = (case.path_parameters or {}).get("meeting_id")
    if meeting_id in api["ids"]:
        case.path_parameters = {**case.path_parameters, "meeting_id": api["ids"][meeting_id]}
    case.call_and_validate(headers=api["headers"], excluded_checks=EXCLUDED_CHECKS)
