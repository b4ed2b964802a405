"""Which département a service code or a commune names."""

from __future__ import annotations

import pytest

from intake_service.territory.rules.departments import (
    department_of_commune,
    department_of_service,
)


@pytest.mark.parametrize(
    ("code", "department"),
    [("ddsp-31", "31"), ("ggd-2a", "2A"), ("dipn-974", "974"), ("pp", None), (None, None)],
)
def test_the_departement_of_a_service(code: str | None, department: str | None) -> None:
    assert department_of_service(code) == department


@pytest.mark.parametrize(
    ("insee", "department"),
    [
        ("31555", "31"),
        ("2A004", "2A"),
        ("97411", "974"),
        ("57463", "57"),
        ("", None),
        ("315", None),
    ],
)
def test_the_departement_of_a_commune(insee: str, department: str | None) -> None:
    assert department_of_commune(insee) == department
