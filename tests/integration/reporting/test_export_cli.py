"""``intake-service export incidents``, on SQLite and PostgreSQL: the same rows as the
API's export, progress on stderr (rows written / total), an audit entry of the command
line, and errors that say what to do (unknown operator or service, bad dates, a file
that cannot be written), leaving no half-written file."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake_service.cli import main
from intake_service.models import AuditEntry
from intake_service.reporting import incident_export
from intake_service.reporting.rules.incident_columns import COLUMNS
from tests.conftest import Clock
from tests.reporting_data import IDENTITIES, sheet, submit_at, tokens

UTC = dt.UTC


@pytest.fixture
def env(app: Any, db: Any, clock: Clock, database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Twelve tisseo sheets in Toulouse on 10 March 2026, two of mistral's; the env of a
    command line on the same database."""
    headers = tokens(db, clock.now)
    client = app.test_client()
    ids = []
    for index in range(12):
        moment = dt.datetime(2026, 3, 10, 8, index, tzinfo=UTC)
        made = sheet(f"CLI-{index}", moment - dt.timedelta(minutes=30))
        ids.append(submit_at(client, clock, moment, headers["operator"], made))
    for index in range(2):
        moment = dt.datetime(2026, 3, 10, 9, index, tzinfo=UTC)
        made = sheet(f"MIS-{index}", moment - dt.timedelta(minutes=30))
        submit_at(client, clock, moment, headers["other_operator"], made)
    clock.now = dt.datetime(2026, 3, 14, 17, 30, tzinfo=UTC)
    return {
        "env": {
            "INSTANCE_PATH": str(tmp_path / "cli-instance"),
            "DATABASE_URL": database_url,
            "BROKER_URL": "memory://",
            "SECRET_KEY": "test-secret",
        },
        "ids": ids,
    }


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, ["export", "incidents", *args], env=env)


def test_exports_the_operators_sheets_with_progress_on_stderr(
    env: dict[str, Any], db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incident_export, "CHUNK_ROWS", 5)
    output = tmp_path / "tisseo.csv"
    done = run(
        env["env"],
        *("--operator", "tisseo", "--from", "2026-03-10", "--to", "2026-03-10"),
        *("--output", str(output)),
    )
    assert done.exit_code == 0, done.output + done.stderr
    assert "exporting 12 incidents of operator:tisseo" in done.stderr
    # Chunks of 5: 5, 10, 12 written of 12, each line once a tenth of the way is passed.
    assert [line.strip() for line in done.stderr.splitlines() if "rows written" in line] == [
        "5 / 12 rows written",
        "10 / 12 rows written",
        "12 / 12 rows written",
    ]
    assert f"exported 12 incidents received from 2026-03-10 to 2026-03-10 to {output}" in (
        done.stdout
    )
    with output.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["incident_id"] for row in rows] == env["ids"]
    assert list(rows[0]) == list(COLUMNS)
    text = output.read_text(encoding="utf-8")
    assert [value for value in IDENTITIES if value in text] == []
    assert not list(tmp_path.glob(".*.partial"))
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "incident.export")
        ).one()
        assert (entry.actor, entry.resource_id, entry.detail["rows"]) == (
            "command line",
            "operator:tisseo",
            12,
        )


def test_exports_a_services_incidents(env: dict[str, Any], tmp_path: Path) -> None:
    output = tmp_path / "ddsp.csv"
    done = run(
        env["env"],
        *("--service", "ddsp-31", "--from", "2026-03-01", "--to", "2026-03-31"),
        *("--output", str(output)),
    )
    assert done.exit_code == 0, done.output + done.stderr
    with output.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 14
    assert {row["operator"] for row in rows} == {"tisseo", "mistral"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--operator", "inconnu"), "unknown operator 'inconnu': `intake-service operators list`"),
        (("--service", "ddsp-99"), "unknown service 'ddsp-99'"),
        ((), "give --operator CODE (its sheets) or --service CODE"),
        (("--operator", "tisseo", "--service", "ddsp-31"), "one of them"),
    ],
)
def test_errors_say_what_to_do(
    env: dict[str, Any], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    output = tmp_path / "out.csv"
    done = run(
        env["env"], *args, "--from", "2026-03-01", "--to", "2026-03-31", "--output", str(output)
    )
    assert done.exit_code == 2
    assert message in done.stderr
    assert not output.exists()
    assert not list(tmp_path.glob(".*.partial"))


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (("2026-31-03", "2026-03-31"), "--from '2026-31-03' is not a date: write it YYYY-MM-DD"),
        (("2026-03-01", "31/03/2026"), "--to '31/03/2026' is not a date"),
        (("2026-03-31", "2026-03-01"), "--from 2026-03-31 comes after --to 2026-03-01: swap them"),
    ],
)
def test_bad_dates_are_explained(
    env: dict[str, Any], tmp_path: Path, dates: tuple[str, str], message: str
) -> None:
    output = tmp_path / "out.csv"
    done = run(
        env["env"],
        "--operator",
        "tisseo",
        "--from",
        dates[0],
        "--to",
        dates[1],
        "--output",
        str(output),
    )
    assert done.exit_code == 2
    assert message in done.stderr
    assert not output.exists()


def test_an_unwritable_file_is_explained(env: dict[str, Any], tmp_path: Path, db: Any) -> None:
    output = tmp_path / "no-such-folder" / "out.csv"
    done = run(
        env["env"],
        *("--operator", "tisseo", "--from", "2026-03-01", "--to", "2026-03-31"),
        *("--output", str(output)),
    )
    assert done.exit_code == 2
    assert f"cannot write {output}" in done.stderr
    assert "a folder that exists" in done.stderr
    with db.transaction() as session:
        # Refused before anything was read: no export in the log.
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "incident.export")).all()
            == []
        )
