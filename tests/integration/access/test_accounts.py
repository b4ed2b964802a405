"""People's accounts: argon2 hashes, the wait after repeated failures, the users CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake_service.access import accounts
from intake_service.access.rules import sign_in_delay
from intake_service.cli import main
from intake_service.models import SignInFailure, User
from tests.factories import create_tokens

PASSWORD = "un-mot-de-passe-long"


@pytest.fixture
def user(db: Any, clock: Any) -> User:
    create_tokens(db, clock.now)  # the operators
    with db.transaction() as session:
        return accounts.add_user(
            session, "Agent@Tisseo.test", PASSWORD, "operator", "tisseo", now=clock.now
        )


def sign_in(
    db: Any, clock: Any, email: str, password: str, address: str = "192.0.2.1"
) -> accounts.SignIn:
    with db.transaction() as session:
        return accounts.sign_in(session, email, password, address=address, now=clock.now)


def test_the_password_is_stored_as_an_argon2_hash(db: Any, user: User) -> None:
    with db.transaction() as session:
        stored = session.scalars(select(User)).one()
    assert stored.email == "agent@tisseo.test"
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_sign_in_with_the_right_password_any_case_of_email(db: Any, clock: Any, user: User) -> None:
    result = sign_in(db, clock, "AGENT@tisseo.test", PASSWORD)
    assert result.principal is not None
    assert (result.principal.role, result.principal.scope) == ("operator", "tisseo")
    assert result.user_id == user.id


@pytest.mark.parametrize(
    ("email", "password"),
    [("agent@tisseo.test", "wrong password"), ("nobody@tisseo.test", PASSWORD)],
)
def test_wrong_email_or_password_say_the_same(
    db: Any, clock: Any, user: User, email: str, password: str
) -> None:
    result = sign_in(db, clock, email, password)
    assert (result.principal, result.refusal) == (None, "bad_credentials")


def test_after_five_failures_the_next_attempt_waits_and_is_not_checked(
    db: Any, clock: Any, user: User
) -> None:
    for _ in range(sign_in_delay.FREE_FAILURES):
        assert sign_in(db, clock, "agent@tisseo.test", "wrong").refusal == "bad_credentials"
    assert sign_in(db, clock, "agent@tisseo.test", PASSWORD).refusal == "delayed"
    clock.advance(seconds=1)
    assert sign_in(db, clock, "agent@tisseo.test", PASSWORD).principal is not None


def test_a_success_resets_the_accounts_count(db: Any, clock: Any, user: User) -> None:
    for _ in range(4):
        sign_in(db, clock, "agent@tisseo.test", "wrong", address="192.0.2.1")
    assert sign_in(db, clock, "agent@tisseo.test", PASSWORD).principal is not None
    for _ in range(4):
        refusal = sign_in(db, clock, "agent@tisseo.test", "wrong", address="192.0.2.2").refusal
        assert refusal == "bad_credentials"
    assert sign_in(db, clock, "agent@tisseo.test", PASSWORD, "192.0.2.2").principal is not None


def test_neither_the_address_nor_the_email_is_kept_in_clear(
    db: Any, clock: Any, user: User
) -> None:
    sign_in(db, clock, "nobody@tisseo.test", "wrong", address="192.0.2.77")
    with db.transaction() as session:
        keys = session.scalars(select(SignInFailure.key)).all()
    assert len(keys) == 2
    assert not any("nobody" in key or "192.0.2.77" in key for key in keys)


def test_a_disabled_account_cannot_sign_in(db: Any, clock: Any, user: User) -> None:
    with db.transaction() as session:
        session.get(User, user.id).disabled_at = clock.now
    assert sign_in(db, clock, "agent@tisseo.test", PASSWORD).refusal == "bad_credentials"
    with db.transaction() as session:
        started = int(clock.now.timestamp())
        assert (
            accounts.session_principal(
                session, user.id, 0, started, now=clock.now, lifetime=dt.timedelta(hours=12)
            )
            is None
        )


@pytest.mark.parametrize(
    ("email", "password", "role", "scope", "message"),
    [
        ("not-an-email", PASSWORD, "operator", "tisseo", "e-mail"),
        ("a@b.fr", "short", "operator", "tisseo", "12 characters"),
        ("a@b.fr", PASSWORD, "operator", "nobody", "No operator"),
        ("a@b.fr", PASSWORD, "admin", "tisseo", "scope is '*'"),
        ("agent@tisseo.test", PASSWORD, "operator", "tisseo", "already has an account"),
    ],
)
def test_add_user_refuses_with_a_reason(
    db: Any, clock: Any, user: User, email: str, password: str, role: str, scope: str, message: str
) -> None:
    with db.transaction() as session, pytest.raises(accounts.AccountError, match=message):
        accounts.add_user(session, email, password, role, scope, now=clock.now)


def test_users_add_from_the_cli(tmp_path: Path) -> None:
    env = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": "", "BROKER_URL": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert (
        runner.invoke(main, ["operators", "add", "tisseo", "--name", "Tisséo"], env=env).exit_code
        == 0
    )
    created = runner.invoke(
        main,
        [
            "users",
            "add",
            "agent@tisseo.test",
            "--role",
            "operator",
            "--scope",
            "tisseo",
            "--password-stdin",
        ],
        input=f"{PASSWORD}\n",
        env=env,
    )
    assert created.exit_code == 0, created.output
    assert "created account" in created.output
    short = runner.invoke(
        main,
        [
            "users",
            "add",
            "b@tisseo.test",
            "--role",
            "operator",
            "--scope",
            "tisseo",
            "--password-stdin",
        ],
        input="short\n",
        env=env,
    )
    assert short.exit_code == 2
    assert "12 characters" in short.output
