"""The roles above one GPO: their scopes, and what they may attempt."""

from __future__ import annotations

import pytest

from intake_service.access.rules.permissions import (
    PERMISSIONS,
    Principal,
    check_scope,
    departments_of,
    may,
)


@pytest.mark.parametrize("scope", ["31", "01", "95", "2A", "2B", "971", "976"])
def test_a_departement_scope_is_a_departement_code(scope: str) -> None:
    assert check_scope("departement", scope) is None


@pytest.mark.parametrize("scope", ["*", "", "00", "96", "2C", "977", "ddsp-31", "3"])
def test_anything_else_is_refused_as_a_departement_scope(scope: str) -> None:
    problem = check_scope("departement", scope)
    assert problem is not None
    assert "département" in problem


def test_the_national_scope_is_everything() -> None:
    assert check_scope("national", "*") is None
    assert check_scope("national", "31") is not None


def test_which_departements_each_role_reads() -> None:
    assert departments_of(Principal("national", "*", "t")) is None
    assert departments_of(Principal("departement", "2A", "t")) == frozenset({"2A"})
    assert departments_of(Principal("gpo_referent", "gpo-toulouse", "t")) == frozenset()


@pytest.mark.parametrize("role", ["national", "departement"])
def test_the_aggregate_roles_may_touch_no_incident_problem_or_appointment(role: str) -> None:
    principal = Principal(role, "*" if role == "national" else "31", "t")
    allowed = {action for action in PERMISSIONS if may(principal, action)}
    assert allowed <= {"overview.read", "overview.export", "hotspots.read"}
    assert "overview.read" in allowed
