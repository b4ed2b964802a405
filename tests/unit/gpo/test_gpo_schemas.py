"""The GPO bodies: the scope document and its errors, each at its own field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from marshmallow import ValidationError

from schemas.errors import flatten_errors
from schemas.gpo import (
    ActionSchema,
    GpoProblemSchema,
    JournalEntrySchema,
    ProblemCreateSchema,
    ProblemUpdateSchema,
    ScopeSchema,
    TransitionSchema,
)

FULL_SCOPE = {
    "operators": ["tisseo"],
    "routes": [{"operator": "tisseo", "route_id": "line:12"}],
    "stops": [{"operator": "tisseo", "stop_id": "stop_area:SA_123"}],
    "point": {"lat": 43.6, "lon": 1.44, "radius_m": 300},
    "natures": ["projectile"],
    "weekdays": [4, 5],
    "hours": {"from": 18, "to": 2},
    "start_date": "2026-01-01",
}


def errors_of(schema: Any, data: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        schema.load(data)
    return {error["field"]: error["message"] for error in flatten_errors(raised.value.messages)}


def test_full_scope_loads_and_dumps_back() -> None:
    loaded = ScopeSchema().load(FULL_SCOPE)
    assert loaded["hours"] == {"from": 18, "to": 2}
    assert loaded["start_date"] == dt.date(2026, 1, 1)
    assert ScopeSchema().dump(loaded) == FULL_SCOPE
    # A stored scope (dates as text) dumps as it is.
    assert ScopeSchema().dump(FULL_SCOPE) == FULL_SCOPE


def test_empty_scope_and_nulls_mean_any() -> None:
    assert ScopeSchema().load({}) == {}
    assert ScopeSchema().load({"point": None, "hours": None}) == {"point": None, "hours": None}


@pytest.mark.parametrize(
    ("scope", "field"),
    [
        ({"natures": ["stones"]}, "natures.0"),
        ({"natures": ["projectile", "projectile"]}, "natures"),
        ({"weekdays": [7]}, "weekdays.0"),
        ({"weekdays": [1, 1]}, "weekdays"),
        ({"weekdays": ["1"]}, "weekdays.0"),
        ({"hours": {"from": 24, "to": 2}}, "hours.from"),
        ({"hours": {"from": 18}}, "hours.to"),
        ({"hours": {"from": 18, "to": 18}}, "hours.to"),
        ({"point": {"lat": 1.44, "lon": 43.6, "radius_m": 300}}, "point.lat"),
        ({"point": {"lat": 43.6, "lon": 1.44, "radius_m": 20}}, "point.radius_m"),
        ({"point": {"lat": 43.6, "lon": 1.44, "radius_m": 6000}}, "point.radius_m"),
        ({"point": {"lat": 43.6, "lon": 1.44}}, "point.radius_m"),
        ({"stops": [{"operator": "tisseo"}]}, "stops.0.stop_id"),
        ({"stops": [{"operator": "tisseo", "stop_id": f"s{i}"} for i in range(201)]}, "stops"),
        ({"routes": [{"operator": "Tisséo", "route_id": "line:12"}]}, "routes.0.operator"),
        ({"start_date": "hier"}, "start_date"),
        ({"lines": []}, "lines"),
    ],
)
def test_scope_errors_are_named_per_field(scope: dict[str, Any], field: str) -> None:
    assert field in errors_of(ScopeSchema(), scope)


def test_problem_create_defaults_and_errors() -> None:
    loaded = ProblemCreateSchema().load({"title": "Jets de pierres"})
    assert loaded == {"title": "Jets de pierres", "description": "", "scope": {}}
    errors = errors_of(
        ProblemCreateSchema(),
        {"title": "  ", "scope": {"weekdays": [9]}, "partners": ["PM"], "state": "closed"},
    )
    assert set(errors) == {"title", "scope.weekdays.0", "partners.0", "state"}


def test_problem_update_is_partial_with_version() -> None:
    assert ProblemUpdateSchema().load({"description": "x", "version": 3}) == {
        "description": "x",
        "version": 3,
    }
    assert "version" in errors_of(ProblemUpdateSchema(), {"version": "3"})
    assert "version" in errors_of(ProblemUpdateSchema(), {"version": 10**30})


def test_transition_and_action_and_journal() -> None:
    assert TransitionSchema().load({"to": "not_resolved", "reason": "r"})["to"] == "not_resolved"
    assert "to" in errors_of(TransitionSchema(), {"to": "done"})
    action = ActionSchema().load({"what": "Patrouilles le soir", "owner_partner": "pm-toulouse"})
    assert action["status"] == "planned"
    errors = errors_of(
        ActionSchema(),
        {
            "what": "Patrouilles",
            "owner_partner": "pm-toulouse",
            "starts_on": "2026-03-10",
            "due_on": "2026-03-01",
        },
    )
    assert set(errors) == {"due_on"}
    assert "status" in errors_of(ActionSchema(), {"what": "x", "owner_partner": "a", "status": "x"})
    assert "kind" in errors_of(JournalEntrySchema(), {"kind": "state_change", "text": "x"})


def test_problem_output_dumps_a_stored_problem() -> None:
    document = {
        "id": "p1",
        "scope": FULL_SCOPE,
        "watch_until": dt.datetime(2026, 6, 14, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    }
    dumped = GpoProblemSchema().dump(document)
    assert dumped["scope"] == FULL_SCOPE
    assert dumped["watch_until"] == "2026-06-14T17:30:00+00:00"
