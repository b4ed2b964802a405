"""Who sees and who keeps which entity of the directory, as a table."""

from __future__ import annotations

import pytest

from intake_service.directory.rules.notices import ENTITY_KINDS, NOTICE_KINDS
from intake_service.directory.rules.visibility import (
    Relations,
    may_edit,
    may_see,
    own_entity,
    visible_entities,
)
from schemas import vocabulary

# tisseo's incidents go to ddsp-31 (and one to the fallback desk), mistral's to ddsp-83;
# csp-toulouse belongs to ddsp-31, csp-toulon to ddsp-83; gpo-toulouse lists ddsp-31 and
# tisseo, with the partner pm-toulouse; gpo-var lists ddsp-83 and mistral.
RELATIONS = Relations(
    routes=frozenset({("tisseo", "ddsp-31"), ("tisseo", "unrouted"), ("mistral", "ddsp-83")}),
    station_services={"csp-toulouse": "ddsp-31", "csp-toulon": "ddsp-83", "csp-orphan": None},
    gpo_services={"gpo-toulouse": frozenset({"ddsp-31"}), "gpo-var": frozenset({"ddsp-83"})},
    gpo_operators={"gpo-toulouse": frozenset({"tisseo"}), "gpo-var": frozenset({"mistral"})},
    gpo_partners={"gpo-toulouse": frozenset({"pm-toulouse"}), "gpo-var": frozenset({"pm-toulon"})},
)

OP_TISSEO = ("operator", "tisseo")
OP_MISTRAL = ("operator", "mistral")
DDSP_31 = ("police_service", "ddsp-31")
DDSP_83 = ("police_service", "ddsp-83")
UNROUTED = ("police_service", "unrouted")
CSP_TOULOUSE = ("police_station", "csp-toulouse")
CSP_TOULON = ("police_station", "csp-toulon")
GPO_TOULOUSE = ("gpo", "gpo-toulouse")
GPO_VAR = ("gpo", "gpo-var")
PM_TOULOUSE = ("partner", "gpo-toulouse:pm-toulouse")
PM_TOULON = ("partner", "gpo-var:pm-toulon")
EVERY = {
    OP_TISSEO,
    OP_MISTRAL,
    DDSP_31,
    DDSP_83,
    UNROUTED,
    CSP_TOULOUSE,
    CSP_TOULON,
    GPO_TOULOUSE,
    GPO_VAR,
    PM_TOULOUSE,
    PM_TOULON,
}

# (role, scope) → exactly the entities it sees.
SEES = [
    ("operator", "tisseo", {OP_TISSEO, DDSP_31, UNROUTED, CSP_TOULOUSE, GPO_TOULOUSE}),
    ("operator", "mistral", {OP_MISTRAL, DDSP_83, CSP_TOULON, GPO_VAR}),
    ("operator", "no-incidents-yet", {("operator", "no-incidents-yet")}),
    ("command_centre", "ddsp-31", {DDSP_31, OP_TISSEO, CSP_TOULOUSE, GPO_TOULOUSE}),
    ("command_centre", "ddsp-83", {DDSP_83, OP_MISTRAL, CSP_TOULON, GPO_VAR}),
    ("command_centre", "unrouted", {UNROUTED, OP_TISSEO}),
    ("station_officer", "csp-toulouse", {CSP_TOULOUSE, DDSP_31, OP_TISSEO}),
    ("station_officer", "csp-toulon", {CSP_TOULON, DDSP_83, OP_MISTRAL}),
    ("station_officer", "csp-orphan", {("police_station", "csp-orphan")}),
    ("gpo_referent", "gpo-toulouse", {GPO_TOULOUSE, PM_TOULOUSE, DDSP_31, OP_TISSEO}),
    ("gpo_referent", "gpo-var", {GPO_VAR, PM_TOULON, DDSP_83, OP_MISTRAL}),
    ("gpo_partner", "gpo-toulouse:pm-toulouse", {PM_TOULOUSE, GPO_TOULOUSE}),
    # A partner account naming no organisation sees its GPO only.
    ("gpo_partner", "gpo-toulouse", {GPO_TOULOUSE}),
]


@pytest.mark.parametrize(("role", "scope", "expected"), SEES, ids=[f"{r} {s}" for r, s, _ in SEES])
def test_who_sees_what(role: str, scope: str, expected: set[tuple[str, str]]) -> None:
    assert visible_entities(role, scope, RELATIONS) == expected
    for entity in EVERY | expected:
        assert may_see(role, scope, entity, RELATIONS) == (entity in expected), entity


def test_the_admin_sees_every_entity() -> None:
    assert visible_entities("admin", "*", RELATIONS) is None
    assert all(may_see("admin", "*", entity, RELATIONS) for entity in EVERY)


def test_an_unknown_role_sees_nothing() -> None:
    assert visible_entities("system", "*", RELATIONS) == frozenset()


# (role, scope, entity) → may keep it.
EDITS = [
    ("operator", "tisseo", OP_TISSEO, True),
    ("operator", "tisseo", OP_MISTRAL, False),
    ("operator", "tisseo", DDSP_31, False),
    ("command_centre", "ddsp-31", DDSP_31, True),
    ("command_centre", "ddsp-31", OP_TISSEO, False),
    ("command_centre", "ddsp-31", CSP_TOULOUSE, False),
    ("station_officer", "csp-toulouse", CSP_TOULOUSE, True),
    ("station_officer", "csp-toulouse", DDSP_31, False),
    ("gpo_referent", "gpo-toulouse", GPO_TOULOUSE, True),
    ("gpo_referent", "gpo-toulouse", PM_TOULOUSE, False),
    ("gpo_referent", "gpo-toulouse", GPO_VAR, False),
    ("gpo_partner", "gpo-toulouse:pm-toulouse", PM_TOULOUSE, True),
    ("gpo_partner", "gpo-toulouse:pm-toulouse", GPO_TOULOUSE, False),
    ("gpo_partner", "gpo-toulouse", GPO_TOULOUSE, False),
    ("gpo_partner", "gpo-toulouse", ("partner", "gpo-toulouse"), False),
    ("admin", "*", PM_TOULON, True),
    ("admin", "*", DDSP_83, True),
]


@pytest.mark.parametrize(("role", "scope", "entity", "expected"), EDITS)
def test_who_keeps_what(role: str, scope: str, entity: tuple[str, str], expected: bool) -> None:
    assert may_edit(role, scope, entity) is expected


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        ("operator", "tisseo", OP_TISSEO),
        ("command_centre", "ddsp-31", DDSP_31),
        ("station_officer", "csp-toulouse", CSP_TOULOUSE),
        ("gpo_referent", "gpo-toulouse", GPO_TOULOUSE),
        ("gpo_partner", "gpo-toulouse:pm-toulouse", PM_TOULOUSE),
        ("gpo_partner", "gpo-toulouse", None),
        ("admin", "*", None),
    ],
)
def test_own_entity(role: str, scope: str, expected: tuple[str, str] | None) -> None:
    assert own_entity(role, scope) == expected


def test_the_schemas_know_the_same_notice_kinds_as_the_rules() -> None:
    assert tuple(NOTICE_KINDS) == vocabulary.NOTICE_KINDS


def test_the_schemas_know_the_same_entity_kinds_as_the_rules() -> None:
    assert ENTITY_KINDS == vocabulary.DIRECTORY_ENTITY_KINDS
