"""The administration CLI, run as an operator of the deployment would run it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import select

from intake_service.access.tokens import principal_for
from intake_service.cli import main
from intake_service.models import ApiToken
from intake_service.platform.db import Database
from intake_service.platform.migrate import alembic_config


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The embedded mode, in a fresh instance folder."""
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": "", "BROKER_URL": ""}


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_db_upgrade_then_operator_and_token_lifecycle(env: dict[str, str]) -> None:
    upgraded = run(env, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert f"database at revision {head}" in upgraded.output

    added = run(env, "operators", "add", "tisseo", "--name", "Tisséo")
    again = run(env, "operators", "add", "tisseo", "--name", "Tisséo Toulouse")
    assert (added.exit_code, again.exit_code) == (0, 0)
    assert "added operator tisseo" in added.output
    assert "updated operator tisseo" in again.output
    assert run(env, "operators", "list").output.splitlines() == ["tisseo\tTisséo Toulouse"]

    created = run(
        env, "tokens", "create", "--role", "operator", "--scope", "tisseo", "--label", "SAE"
    )
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("gpo_")
    assert len(secret) > 40

    database = Database(f"sqlite:///{env['INSTANCE_PATH']}/intake.sqlite")
    with database.transaction() as session:
        stored = session.scalars(select(ApiToken)).one()
        assert secret not in (stored.token_hash, stored.prefix)
        principal = principal_for(session, secret)
    assert principal is not None
    assert (principal.role, principal.scope) == ("operator", "tisseo")

    listing = run(env, "tokens", "list").output
    assert "SAE" in listing
    assert secret not in listing

    revoked = run(env, "tokens", "revoke", str(stored.id))
    assert revoked.exit_code == 0
    with database.transaction() as session:
        assert principal_for(session, secret) is None
    database.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tokens", "create", "--role", "operator", "--scope", "nobody"), "operators add nobody"),
        (("tokens", "create", "--role", "admin", "--scope", "tisseo"), "scope is '*'"),
        (("tokens", "create", "--role", "command_centre", "--scope", "*"), "service code"),
        (("tokens", "revoke", "999"), "tokens list"),
        (("operators", "add", "Bad Code!", "--name", "x"), "lowercase"),
    ],
)
def test_errors_say_what_to_do(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    run(env, "db", "upgrade")
    result = run(env, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_unknown_role_is_refused_with_the_choices(env: dict[str, str]) -> None:
    result = run(env, "tokens", "create", "--role", "superuser", "--scope", "x")
    assert result.exit_code == 2
    assert "operator" in result.output
    assert "command_centre" in result.output


def test_production_needs_a_secret_key(env: dict[str, str]) -> None:
    production = {**env, "DATABASE_URL": "postgresql://127.0.0.1/test", "BROKER_URL": "redis://x"}
    result = run(production, "operators", "list")
    assert result.exit_code == 2
    assert "SECRET_KEY is not set" in result.output


def test_before_upgrade_the_cli_says_to_upgrade(env: dict[str, str]) -> None:
    result = run(env, "operators", "list")
    assert result.exit_code == 2
    assert "intake-service db upgrade" in result.output


def test_unreachable_database_is_explained(env: dict[str, str]) -> None:
    broken = {
        **env,
        "DATABASE_URL": "postgresql://127.0.0.1:1/nothing",
        "BROKER_URL": "redis://127.0.0.1:1",
        "SECRET_KEY": "x",
    }
    result = run(broken, "operators", "list")
    assert result.exit_code == 2
    assert "cannot reach the database" in result.output


def test_demo_load_prints_a_token_per_role_and_is_idempotent(env: dict[str, str]) -> None:
    first = run(env, "demo", "load")
    second = run(env, "demo", "load")
    assert (first.exit_code, second.exit_code) == (0, 0)
    for role in (
        "operator",
        "command_centre",
        "gpo_referent",
        "gpo_partner",
        "station_officer",
        "admin",
    ):
        assert role in first.output
    assert first.output == second.output


def test_demo_is_refused_outside_the_embedded_mode(env: dict[str, str]) -> None:
    production = {
        **env,
        "DATABASE_URL": "postgresql://127.0.0.1/test",
        "BROKER_URL": "redis://x",
        "SECRET_KEY": "x",
    }
    result = run(production, "demo", "load")
    assert result.exit_code == 2
    assert "embedded" in result.output


def test_unknown_worker_names_are_refused_with_the_known_ones(env: dict[str, str]) -> None:
    result = run(env, "workers", "relay", "linker2")
    assert result.exit_code == 2
    assert "linker2" in result.output
    assert "relay" in result.output
    assert "escalation" in result.output
