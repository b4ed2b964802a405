"""``intake-service gpos remind-meetings``: the referents' reminders, once per meeting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.access.rules.permissions import Principal
from intake_service.cli import main
from intake_service.gpo import gpos, meetings
from intake_service.models import EmailMessage
from intake_service.platform.clock import utc_now
from intake_service.platform.db import Database


def test_remind_meetings_writes_each_reminder_once(tmp_path: Path) -> None:
    env = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": "", "BROKER_URL": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'intake.sqlite'}")
    now = utc_now()
    referent = Principal(role="gpo_referent", scope="gpo-toulouse", actor="test:referent")
    with db.transaction() as session:
        gpos.add_gpo(session, "gpo-toulouse", "GPO Toulouse", ["ddsp-31"], [], False, now)
        gpos.add_partner(session, "gpo-toulouse", "pm-toulouse", "Police municipale")
        add_user(
            session, "ref@gpo.test", "mot-de-passe-long", "gpo_referent", "gpo-toulouse", now=now
        )
        meetings.plan_meeting(
            session,
            referent,
            "gpo-toulouse",
            {"planned_at": now + dt.timedelta(hours=20), "place": "Salle 2"},
            now,
        )
    first = runner.invoke(main, ["gpos", "remind-meetings"], env=env, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "1 meeting reminder(s) written" in first.output
    second = runner.invoke(main, ["gpos", "remind-meetings"], env=env, catch_exceptions=False)
    assert "0 meeting reminder(s) written" in second.output
    with db.transaction() as session:
        (email,) = session.scalars(select(EmailMessage)).all()
        assert email.kind == "gpo_reminder"
        assert email.recipients == ["ref@gpo.test"]
    db.dispose()
