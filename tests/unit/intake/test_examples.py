"""The example sheets of ``examples/sheets`` say what their manifest says they say.

Valid sheets load, get the manifest's priority and warnings, and survive a dump and a
reload; invalid sheets fail with exactly the manifest's field paths. All of it is
checked at the manifest's reference instant, never at the clock.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError

from intake_service.intake.rules.priority import assess
from intake_service.intake.rules.warnings import sheet_warnings
from schemas.errors import flatten_errors
from schemas.sheet import SheetSchema, evaluated_at

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sheets"
MANIFEST: dict[str, Any] = json.loads((EXAMPLES / "manifest.json").read_text(encoding="utf-8"))
REFERENCE = dt.datetime.fromisoformat(MANIFEST["reference_instant"])


def read(kind: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / kind / name).read_text(encoding="utf-8"))
    return data


def load(data: dict[str, Any]) -> dict[str, Any]:
    with evaluated_at(REFERENCE):
        loaded: dict[str, Any] = SheetSchema().load(data)
    return loaded


def files(kind: str) -> set[str]:
    return {path.name for path in (EXAMPLES / kind).glob("*.json")}


def test_reference_instant_is_saturday_evening_in_toulouse() -> None:
    assert dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC) == REFERENCE


@pytest.mark.parametrize("kind", ["valid", "invalid"])
def test_every_file_is_in_the_manifest_and_back(kind: str) -> None:
    assert files(kind) == set(MANIFEST[kind])


def test_operator_references_are_unique() -> None:
    references = [
        read(kind, name)["operator_reference"]
        for kind in ("valid", "invalid")
        for name in files(kind)
    ]
    assert len(references) == len(set(references))


@pytest.mark.parametrize("name", sorted(MANIFEST["valid"]))
def test_valid_sheet_has_its_priority_and_warnings(name: str) -> None:
    expected = MANIFEST["valid"][name]
    sheet = load(read("valid", name))

    assert assess(sheet, REFERENCE).priority == expected["priority"]
    assert [warning["code"] for warning in sheet_warnings(sheet, REFERENCE)] == expected["warnings"]


@pytest.mark.parametrize("name", sorted(MANIFEST["valid"]))
def test_valid_sheet_stored_form_reloads_to_the_same_sheet(name: str) -> None:
    sheet = load(read("valid", name))
    stored = SheetSchema().dump(sheet)

    assert load(json.loads(json.dumps(stored))) == sheet


@pytest.mark.parametrize("name", sorted(MANIFEST["invalid"]))
def test_invalid_sheet_reports_exactly_its_fields(name: str) -> None:
    with pytest.raises(ValidationError) as raised:
        load(read("invalid", name))

    reported = {error["field"] for error in flatten_errors(raised.value.messages)}
    assert reported == set(MANIFEST["invalid"][name]["errors"])
