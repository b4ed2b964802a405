"""Page sessions end on the server's word: at sign-out, when the account is disabled,
and a set time after sign-in whatever the activity (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from intake_service import create_app
from intake_service.access import accounts
from intake_service.cli import main
from intake_service.models import AuditEntry, User

PASSWORD = "un-mot-de-passe-long"
EMAIL = "cic@ddsp31.test"
COOKIE = "intake_session"


@pytest.fixture
def pages(app: Any, db: Any, clock: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests (tests/e2e)
    with db.transaction() as session:
        accounts.add_user(session, EMAIL, PASSWORD, "command_centre", "ddsp-31", now=clock.now)
    return app


def signed_in(app: Any) -> FlaskClient:
    client: FlaskClient = app.test_client()
    answer = client.post("/connexion", data={"email": EMAIL, "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert client.get("/console/").status_code == 200
    return client


def with_cookie_of(app: Any, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie (a stolen one)."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief: FlaskClient = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def refused(client: FlaskClient) -> bool:
    answer = client.get("/console/")
    return answer.status_code == 302 and answer.headers["Location"].startswith("/connexion")


def test_a_copied_cookie_stops_working_at_sign_out(pages: Any) -> None:
    browser = signed_in(pages)
    copy = with_cookie_of(pages, browser)
    assert copy.get("/console/").status_code == 200
    assert browser.post("/deconnexion").status_code == 302
    assert refused(copy)
    assert refused(browser)


def test_sign_out_ends_the_accounts_other_sessions_and_is_audited(pages: Any, db: Any) -> None:
    office, home = signed_in(pages), signed_in(pages)
    office.post("/deconnexion")
    assert refused(home)
    with db.transaction() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "sign_out" in actions
    # A new sign-in works again.
    assert signed_in(pages).get("/console/").status_code == 200


def test_a_session_ends_twelve_hours_after_sign_in_whatever_the_activity(
    pages: Any, clock: Any
) -> None:
    browser = signed_in(pages)
    for _ in range(11):
        clock.advance(hours=1)
        assert browser.get("/console/").status_code == 200
    clock.advance(minutes=59)
    assert browser.get("/console/").status_code == 200
    clock.advance(minutes=1)
    assert refused(browser)


def test_the_lifetime_is_a_setting(config: Any, clock: Any, db: Any) -> None:
    import datetime as dt

    app = create_app(
        config.with_overrides({"session_lifetime": dt.timedelta(hours=1)}), clock=clock
    )
    try:
        app.config["WTF_CSRF_ENABLED"] = False
        with app.extensions["intake.db"].transaction() as session:
            accounts.add_user(session, EMAIL, PASSWORD, "command_centre", "ddsp-31", now=clock.now)
        browser = signed_in(app)
        clock.advance(minutes=59)
        assert browser.get("/console/").status_code == 200
        clock.advance(minutes=1)
        assert refused(browser)
    finally:
        app.extensions["intake.db"].dispose()


def test_the_lifetime_setting_is_read_from_the_environment(tmp_path: Path) -> None:
    import datetime as dt

    from intake_service.platform.config import ENV_VARS, Config, ConfigError

    assert "SESSION_LIFETIME_HOURS" in ENV_VARS
    instance = {"INSTANCE_PATH": str(tmp_path / "instance")}
    assert Config.from_env(instance).session_lifetime == dt.timedelta(hours=12)
    eight = Config.from_env({**instance, "SESSION_LIFETIME_HOURS": "8"})
    assert eight.session_lifetime == dt.timedelta(hours=8)
    with pytest.raises(ConfigError, match="SESSION_LIFETIME_HOURS"):
        Config.from_env({**instance, "SESSION_LIFETIME_HOURS": "0"})


def test_disabling_ends_the_sessions_and_enabling_does_not_revive_them(
    pages: Any, db: Any, clock: Any
) -> None:
    browser = signed_in(pages)
    with db.transaction() as session:
        accounts.disable_user(session, EMAIL, now=clock.now)
    assert refused(with_cookie_of(pages, browser))
    refusal = pages.test_client().post("/connexion", data={"email": EMAIL, "password": PASSWORD})
    assert refusal.status_code == 401
    with db.transaction() as session:
        accounts.enable_user(session, EMAIL, now=clock.now)
    assert refused(browser)
    assert signed_in(pages).get("/console/").status_code == 200
    with db.transaction() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert {"user.disable", "user.enable"} <= set(actions)


def test_disable_and_enable_refuse_an_unknown_account(db: Any, clock: Any) -> None:
    with db.transaction() as session, pytest.raises(accounts.AccountError, match="users add"):
        accounts.disable_user(session, "nobody@nowhere.test", now=clock.now)
    with db.transaction() as session, pytest.raises(accounts.AccountError, match="No account"):
        accounts.enable_user(session, "nobody@nowhere.test", now=clock.now)


def test_users_disable_and_enable_from_the_cli(tmp_path: Path) -> None:
    env = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": "", "BROKER_URL": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    created = runner.invoke(
        main,
        [
            "users",
            "add",
            EMAIL,
            "--role",
            "command_centre",
            "--scope",
            "ddsp-31",
            "--password-stdin",
        ],
        input=f"{PASSWORD}\n",
        env=env,
    )
    assert created.exit_code == 0, created.output
    disabled = runner.invoke(main, ["users", "disable", "CIC@ddsp31.test"], env=env)
    assert disabled.exit_code == 0, disabled.output
    assert f"disabled account 1: {EMAIL}" in disabled.output
    again = runner.invoke(main, ["users", "disable", EMAIL], env=env)
    assert again.exit_code == 0
    assert "already disabled" in again.output
    unknown = runner.invoke(main, ["users", "disable", "nobody@ddsp31.test"], env=env)
    assert unknown.exit_code == 2
    assert "No account nobody@ddsp31.test" in unknown.output
    assert "users add" in unknown.output
    enabled = runner.invoke(main, ["users", "enable", EMAIL], env=env)
    assert enabled.exit_code == 0
    assert "enabled account" in enabled.output
    from intake_service.platform.db import Database

    database = Database(f"sqlite:///{tmp_path / 'instance' / 'intake.sqlite'}")
    try:
        with database.transaction() as session:
            user = session.scalars(select(User)).one()
            assert user.disabled_at is None
            assert user.session_epoch == 1  # bumped once, by the disabling
            actions = session.scalars(select(AuditEntry.action)).all()
        assert (actions.count("user.disable"), actions.count("user.enable")) == (1, 1)
    finally:
        database.dispose()
