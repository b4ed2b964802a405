"""``intake-service directory``: a deployment sets its entities' functional mailboxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from intake_service.cli import main


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The embedded mode, in a fresh instance folder, migrated, with a zone and an operator."""
    env = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": "", "BROKER_URL": ""}
    zones = tmp_path / "zones.csv"
    zones.write_text(
        "insee_code,service_code,service_name\n31555,ddsp-31,DIPN 31\n", encoding="utf-8"
    )
    for args in (
        ("db", "upgrade"),
        ("zones", "import", str(zones)),
        ("operators", "add", "tisseo", "--name", "Tisséo"),
    ):
        done = run(env, *args)
        assert done.exit_code == 0, done.output
    return env


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_set_a_mailbox_then_show_it(env: dict[str, str]) -> None:
    empty = run(env, "directory", "show")
    assert "the directory is empty" in empty.output
    done = run(
        env, "directory", "set-mailbox", "police_service", "ddsp-31", "cic@ddsp31.example.org"
    )
    assert done.exit_code == 0, done.output
    assert "police_service ddsp-31: mailbox cic@ddsp31.example.org (version 1)" in done.output
    again = run(
        env, "directory", "set-mailbox", "police_service", "ddsp-31", "cic2@ddsp31.example.org"
    )
    assert "(version 2)" in again.output
    shown = run(env, "directory", "show", "police_service")
    assert "cic2@ddsp31.example.org" in shown.output
    assert "urgent_incident" in shown.output  # a new entity has every notice
    assert "DIPN 31" not in run(env, "directory", "show", "operator").output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("spaceship", "x", "a@b.example"), "unknown kind 'spaceship': use one of operator"),
        (("operator", "tisseo", "not-an-address"), "is not an email address"),
        (("operator", "nobody", "a@b.example"), "intake-service operators add nobody"),
        (("police_service", "ddsp-99", "a@b.example"), "intake-service zones import"),
        (("partner", "gpo-x:pm", "a@b.example"), "<gpo>:<partner>"),
    ],
)
def test_mistakes_say_how_to_fix_them(
    env: dict[str, str], args: tuple[str, ...], says: str
) -> None:
    done = run(env, "directory", "set-mailbox", *args)
    assert done.exit_code == 2
    assert says in done.output


def test_the_demo_fills_the_directory(env: dict[str, str]) -> None:
    assert run(env, "demo", "load").exit_code == 0
    shown = run(env, "directory", "show").output
    for code in ("tisseo", "ddsp-31", "csp-toulouse", "gpo-toulouse", "gpo-toulouse:pm-toulouse"):
        assert code in shown
    assert "cic-ddsp31@police.example.org" in shown
    assert "+33561127777" in shown  # referents' phones stored in E.164
