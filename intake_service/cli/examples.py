"""``intake-service examples``: the example sheets, fresh enough to be accepted now."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from intake_service.cli.base import fail, main
from intake_service.intake.rules.example_times import moved_to
from intake_service.platform.clock import utc_now


@main.group("examples")
def examples_group() -> None:
    """The example sheets of examples/sheets."""


@examples_group.command("sheet")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def example_sheet(path: Path) -> None:
    """Print the sheet at PATH with its times moved to now.

    The examples are written at their manifest's reference instant (a Saturday
    evening in March 2026); the service refuses a sheet from too long ago, so this
    shifts every instant of it by the time elapsed since. Pipe it to curl:
    intake-service examples sheet examples/sheets/valid/p4-depot-tags.json | curl … --data @-
    """
    manifest_path = path.resolve().parent.parent / "manifest.json"
    try:
        sheet = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"no file {path}: give the path of a sheet in examples/sheets/valid.")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{path} is not a JSON sheet ({exc}).")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        reference = dt.datetime.fromisoformat(manifest["reference_instant"])
    except (OSError, ValueError, KeyError):
        fail(
            f"no manifest with a reference_instant at {manifest_path}: the sheet must be "
            "in a folder of examples/sheets (valid/ or invalid/)."
        )
    if not isinstance(sheet, dict):
        fail(f"{path} is not a sheet (a JSON object).")
    click.echo(json.dumps(moved_to(sheet, reference, utc_now()), ensure_ascii=False, indent=2))
