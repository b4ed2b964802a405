"""The pages' French labels (``intake_service.labels``): every code has its words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from intake_service.intake import places
from intake_service.intake.rules import priority
from intake_service.intake.rules import warnings as sheet_warnings
from intake_service.platform import labels
from schemas import vocabulary as v
from schemas.sheet import ConsentsSchema, SheetSchema


@pytest.mark.parametrize(
    ("values", "french"),
    [
        (v.CHANNELS, labels.CHANNEL_LABELS),
        (v.REPORTER_ROLES, labels.REPORTER_ROLE_LABELS),
        (v.STATES, labels.STATE_LABELS),
        (v.STATES, labels.STATE_CHOICES),
        (v.NATURES, labels.NATURE_LABELS),
        (v.NATURES, labels.NATURE_CHOICES),
        (v.MODES, labels.MODE_LABELS),
        (v.PLACES, labels.PLACE_LABELS),
        (v.VEHICLE_POSITIONS, labels.VEHICLE_POSITION_LABELS),
        (v.COORDINATE_SOURCES, labels.COORDINATE_SOURCE_LABELS),
        (v.SEVERITIES, labels.SEVERITY_LABELS),
        (v.SUSPECT_STATUSES, labels.SUSPECT_STATUS_LABELS),
        (v.WEAPONS, labels.WEAPON_LABELS),
        (v.VICTIM_KINDS, labels.VICTIM_KIND_LABELS),
        (v.STAFF_FUNCTIONS, labels.STAFF_FUNCTION_LABELS),
        (v.COMPLAINT_WISHES, labels.COMPLAINT_LABELS),
        (v.VIDEO_EXISTS, labels.VIDEO_EXISTS_LABELS),
        (v.VIDEO_SOURCES, labels.VIDEO_SOURCE_LABELS),
        (v.PRIORITIES, labels.PRIORITY_LABELS),
        (v.PRIORITIES, labels.PRIORITY_MEANINGS),
        (v.STATUSES, labels.STATUS_LABELS),
        (v.STATUSES, labels.SHEET_STATUS_LABELS),
        (v.OUTCOMES, labels.OUTCOME_LABELS),
        (tuple(ConsentsSchema().fields), labels.CONSENT_LABELS),
    ],
)
def test_every_vocabulary_value_has_a_french_label(
    values: tuple[Any, ...], french: dict[Any, str]
) -> None:
    assert set(french) == set(values)
    assert all(label.strip() for label in french.values())


def test_every_priority_reason_has_a_french_label() -> None:
    # ``record``: the reason when no rule applies (P4).
    reasons = {rule.reason for rule in priority.RULES} | {"record"}
    assert set(labels.PRIORITY_REASONS) == reasons


def test_every_warning_code_has_a_french_label() -> None:
    """The codes given by ``sheet_warnings`` and ``places``, read from their source."""
    codes = set()
    for module in (sheet_warnings, places):
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        codes |= set(re.findall(r'warn\(\s*"(\w+)"', source))
        codes |= set(re.findall(r'"code": "(\w+)"', source))
    assert len(codes) >= 11
    assert set(labels.WARNING_LABELS) == codes


def test_every_field_of_the_schema_has_a_label() -> None:
    def paths(schema: Any, prefix: str = "") -> list[str]:
        found = []
        for name, field in schema.fields.items():
            path = f"{prefix}{name}"
            found.append(path)
            inner = getattr(field, "inner", None)
            nested = getattr(inner or field, "schema", None)
            if nested is not None:
                found.extend(paths(nested, f"{path}.#." if inner else f"{path}."))
        return found

    assert set(paths(SheetSchema())) <= set(labels.FIELD_LABELS)
    # The sections (top-level keys) come first, in the sheet's order.
    top = [key for key in labels.FIELD_LABELS if "." not in key]
    assert top == list(SheetSchema().fields)
    assert list(labels.FIELD_LABELS)[: len(top)] == top


@pytest.mark.parametrize(
    ("path", "section"),
    [("narrative", "Récit"), ("injuries.count", "Blessés"), ("victims.0.kind", "Victimes")],
)
def test_section_label(path: str, section: str) -> None:
    assert labels.section_label(path) == section


@pytest.mark.parametrize(
    ("label", "inside"),
    [
        ("Interpellation", "interpellation"),
        ("Retenu par les agents (art. 73 CPP)", "retenu par les agents (art. 73 CPP)"),
        ("GPS de l'appareil", "GPS de l'appareil"),
        ("PC sûreté", "PC sûreté"),
        ("", ""),
    ],
)
def test_in_sentence(label: str, inside: str) -> None:
    assert labels.in_sentence(label) == inside


def test_the_form_choices_are_the_labels_with_a_hint() -> None:
    for code, label in labels.NATURE_LABELS.items():
        assert labels.NATURE_CHOICES[code].startswith(label)
    assert labels.NATURE_CHOICES["theft"] == "Vol simple, pickpocket"
    assert labels.STATE_CHOICES["just_happened"] == "Vient de se produire (15 min au plus)"
