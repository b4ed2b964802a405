"""Every valid example sheet is accepted on the demo, today: moved to now (``intake-service
examples sheet``), each with its operator's demo token, at the manifest's priority.

The README's trial sends them to ``./dev run``; they used to expire (their times fixed
in March 2026) and to name stops the demo feeds do not have.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from intake_service import demo
from intake_service.appointments.policy import BookingPolicy
from intake_service.cli import main
from intake_service.cli.gtfs import commune_lookup
from intake_service.intake.rules.example_times import moved_to

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sheets"
MANIFEST: dict[str, Any] = json.loads((EXAMPLES / "manifest.json").read_text(encoding="utf-8"))
REFERENCE = dt.datetime.fromisoformat(MANIFEST["reference_instant"])
# The demo operator of each example, by its reference's prefix.
TOKENS = {
    "TSO": "demo-operator-tisseo",
    "MST": "demo-operator-mistral",
    "RUN": "demo-operator-citalis",
    "AJA": "demo-operator-muvitarra",
}


@pytest.fixture
def demo_app(app: Any, config: Any, clock: Any) -> Any:
    clock.now = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)  # long after REFERENCE
    with app.extensions["intake.db"].transaction() as session:
        demo.load(session, now=clock.now, commune_of=commune_lookup(config), policy=BookingPolicy())
    return app


def test_every_valid_example_is_accepted_on_the_demo(demo_app: Any, clock: Any) -> None:
    client = demo_app.test_client()
    answers = {}
    for name, expected in sorted(MANIFEST["valid"].items()):
        sheet = json.loads((EXAMPLES / "valid" / name).read_text(encoding="utf-8"))
        token = TOKENS[sheet["operator_reference"].split("-")[0]]
        response = client.post(
            "/api/v1/incidents",
            json=moved_to(sheet, REFERENCE, clock.now),
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.get_json()
        answers[name] = (response.status_code, body.get("priority") or body.get("errors"))
        if response.status_code == 201:
            # The sheet's own warnings, as the manifest says (the place may add routing ones).
            codes = {warning["code"] for warning in body["warnings"]}
            assert set(expected["warnings"]) <= codes, (name, codes)
    assert answers == {
        name: (201, expected["priority"]) for name, expected in MANIFEST["valid"].items()
    }


def test_the_command_prints_the_sheet_moved_to_now(tmp_path: Path) -> None:
    path = EXAMPLES / "valid" / "p4-depot-tags.json"
    result = CliRunner().invoke(main, ["examples", "sheet", str(path)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    original = json.loads(path.read_text(encoding="utf-8"))
    age = REFERENCE - dt.datetime.fromisoformat(original["occurred_at"])
    now = dt.datetime.now(dt.UTC)
    assert abs(now - dt.datetime.fromisoformat(printed["occurred_at"]) - age) < dt.timedelta(
        seconds=5
    )
    assert printed["narrative"] == original["narrative"]
    missing = CliRunner().invoke(main, ["examples", "sheet", str(tmp_path / "none.json")])
    assert missing.exit_code != 0
    assert "give the path of a sheet" in missing.output
