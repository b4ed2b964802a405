"""``intake-service gpos``: GPOs and partners, as an administrator of the deployment adds them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from intake_service.cli import main
from intake_service.models import Gpo, GpoPartner
from intake_service.platform.db import Database


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The embedded mode, in a fresh instance folder, migrated, with zones and operators."""
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


def test_add_gpo_partners_and_list(env: dict[str, str]) -> None:
    added = run(
        env,
        "gpos",
        "add",
        "gpo-toulouse",
        "--name",
        "GPO transports Toulouse",
        "--services",
        "ddsp-31",
        "--operators",
        "tisseo",
        "--auto-confirm-strong",
    )
    assert added.exit_code == 0, added.output
    assert "added GPO gpo-toulouse" in added.output
    assert "warning" not in added.output
    again = run(
        env, "gpos", "add", "gpo-toulouse", "--name", "GPO Toulouse", "--services", "ddsp-31"
    )
    assert "updated GPO gpo-toulouse" in again.output
    partner = run(
        env, "gpos", "partners", "add", "gpo-toulouse", "pm-toulouse", "--name", "Police municipale"
    )
    assert partner.exit_code == 0, partner.output
    assert "--scope gpo-toulouse:pm-toulouse" in partner.output

    listing = run(env, "gpos", "list").output.splitlines()
    assert listing == [
        "gpo-toulouse\tGPO Toulouse\tservices: ddsp-31\toperators: -\tpartners: pm-toulouse"
    ]
    database = Database(f"sqlite:///{env['INSTANCE_PATH']}/intake.sqlite")
    with database.transaction() as session:
        gpo = session.get(Gpo, "gpo-toulouse")
        assert gpo is not None
        assert (gpo.services, gpo.auto_confirm_strong) == (["ddsp-31"], False)
        assert session.get(GpoPartner, ("gpo-toulouse", "pm-toulouse")) is not None
    database.dispose()


def test_unknown_service_or_operator_is_accepted_with_a_warning(env: dict[str, str]) -> None:
    added = run(
        env,
        "gpos",
        "add",
        "gpo-var",
        "--name",
        "GPO Var",
        "--services",
        "ddsp-83",
        "--operators",
        "mistral",
    )
    assert added.exit_code == 0
    assert "no police zone routes to 'ddsp-83'" in added.output
    assert "zones import" in added.output
    assert "operators add mistral" in added.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gpos", "add", "GPO Toulouse", "--name", "x", "--services", "ddsp-31"), "lowercase"),
        (("gpos", "add", "gpo-x", "--name", "x"), "--services"),
        (("gpos", "add", "gpo-x", "--name", " ", "--services", "ddsp-31"), "--name"),
        (("gpos", "partners", "add", "gpo-nowhere", "pm", "--name", "x"), "gpos add gpo-nowhere"),
    ],
)
def test_errors_say_what_to_do(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    failed = run(env, *args)
    assert failed.exit_code == 2
    assert message in failed.output
