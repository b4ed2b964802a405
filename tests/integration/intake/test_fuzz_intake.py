"""Property-based fuzzing of the intake endpoint: no input an operator can send gets a 500."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.incident import IncidentSchema
from schemas.sheet import evaluated_at
from tests.conftest import REFERENCE_INSTANT
from tests.factories import a_sheet, create_tokens

ALLOWED = {201, 400, 409, 413, 415, 422}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=60)
    | st.sampled_from(
        [
            "",
            "in_progress",
            "P1",
            "2026-03-14T18:24:00+01:00",
            "2026-02-30T25:61:00Z",
            "06 12 34 56 78",
            "+33",
            "2A004",
            "\x00",
            "ñ" * 5000,
            "1e309",
            "stop_point:SP_1121",
        ]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(paths_of(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(paths_of(child, (*prefix, index)))
    return found


SHEET_PATHS = paths_of(a_sheet())


@st.composite
def mutated_sheets(draw: st.DrawFn) -> Any:
    """A valid sheet with a few values replaced, keys removed or keys added."""
    sheet = copy.deepcopy(a_sheet(draw(st.text(min_size=1, max_size=10))))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(SHEET_PATHS))
        node = sheet
        try:
            for part in path[:-1]:
                node = node[part]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[path[-1]] = draw(json_values)
            elif action == "delete" and isinstance(node, dict):
                node.pop(path[-1], None)
            elif isinstance(node, dict):
                node[draw(st.text(max_size=8))] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation changed the shape under this path
    return sheet


@pytest.fixture
def client_and_headers(app: Any, db: Any, clock: Any) -> tuple[Any, dict[str, str]]:
    return app.test_client(), create_tokens(db, clock.now)["operator"]


def check(client: Any, headers: dict[str, str], body: bytes) -> None:
    response = client.post(
        "/api/v1/incidents", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code in ALLOWED, response.get_data(as_text=True)
    payload = response.get_json()
    if response.status_code == 201:
        with evaluated_at(REFERENCE_INSTANT):
            assert IncidentSchema().validate(payload) == {}
    else:
        assert response.mimetype == "application/problem+json"
        assert payload["status"] == response.status_code
        for error in payload.get("errors", []):
            assert isinstance(error["field"], str)
            assert isinstance(error["message"], str)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
@FUZZ
@given(sheet=mutated_sheets())
def test_mutated_sheets_never_answer_500(client_and_headers: Any, sheet: Any) -> None:
    client, headers = client_and_headers
    check(client, headers, json.dumps(sheet).encode())


@pytest.mark.slow
@FUZZ
@given(body=json_values)
def test_arbitrary_json_never_answers_500(client_and_headers: Any, body: Any) -> None:
    client, headers = client_and_headers
    check(client, headers, json.dumps(body).encode())


@pytest.mark.slow
@FUZZ
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_never_answer_500(client_and_headers: Any, body: bytes) -> None:
    client, headers = client_and_headers
    check(client, headers, body)
