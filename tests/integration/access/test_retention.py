"""Retention: personal data of finished incidents pseudonymised after the delay, nothing else."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake_service.access.retention import PSEUDONYM, pseudonymise_sheet, run_retention
from intake_service.appointments import incident_events, policy
from intake_service.cli import main
from intake_service.models import AuditEntry, EmailMessage, Incident, IncidentVersion, OutboxEvent
from tests.appointment_data import add_slot, add_station, set_referent
from tests.factories import BASE_SHEET, a_sheet, create_tokens

SIX_MONTHS = 183
PERSONAL = ("Agent Fictif", "+33612345678", "Veste rouge", "refusant de valider", "+33561000017")


def test_pseudonymise_sheet_keeps_what_assessments_need() -> None:
    sheet = a_sheet()
    sheet["video"]["erased_after"] = "2026-03-21T17:24:00+00:00"
    kept = pseudonymise_sheet(sheet)
    text = json.dumps(kept, ensure_ascii=False)
    for value in (*PERSONAL, "erased_after"):
        assert value not in text
    assert kept["narrative"] == PSEUDONYM
    assert kept["victims"][0]["contact"] == {"name": PSEUDONYM}
    assert "consents" not in kept["victims"][0]
    for key in ("natures", "occurred_at", "state", "injuries", "location"):
        assert kept[key] == sheet[key]
    assert kept["suspects"]["count"] == 1
    assert sheet == a_sheet() | {"video": sheet["video"]}  # the input is untouched
    assert BASE_SHEET["narrative"] != PSEUDONYM


@pytest.fixture
def closed_incident(app: Any, db: Any, clock: Any) -> str:
    headers = create_tokens(db, clock.now)
    client = app.test_client()
    incident_id = client.post(
        "/api/v1/incidents", json=a_sheet(), headers=headers["operator"]
    ).get_json()["id"]
    client.post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json={"witnesses_count": 4},
        headers=headers["operator"],
    )
    # Its staff victim was given an appointment, and written to.
    add_station(db, clock.now)
    set_referent(db, "tisseo", "referent@tisseo.example")
    add_slot(db, "csp-toulouse", clock.now + dt.timedelta(hours=20))
    with db.transaction() as session:
        incident_events.book_for_incident(
            session,
            incident_id,
            clock.now,
            policy=policy.policy_of(app.extensions["intake.config"]),
        )
        incident = session.get(Incident, incident_id)
        incident.status = "closed"
    return str(incident_id)


def stored_text(db: Any, incident_id: str) -> str:
    with db.transaction() as session:
        parts: list[Any] = [session.get(Incident, incident_id).sheet]
        parts += [
            v.sheet
            for v in session.scalars(
                select(IncidentVersion).where(IncidentVersion.incident_id == incident_id)
            )
        ]
        parts += [
            e.envelope
            for e in session.scalars(
                select(OutboxEvent).where(OutboxEvent.incident_id == incident_id)
            )
        ]
        parts += [
            [m.recipients, m.subject, m.body, m.ics] for m in session.scalars(select(EmailMessage))
        ]
    return json.dumps(parts, ensure_ascii=False)


def test_due_incidents_are_pseudonymised_everywhere_once(
    db: Any, clock: Any, closed_incident: str
) -> None:
    keep_for = dt.timedelta(days=SIX_MONTHS)
    with db.transaction() as session:
        assert run_retention(session, clock.now, keep_for).incidents == []  # not yet
    clock.advance(days=SIX_MONTHS + 1)
    with db.transaction() as session:
        dry = run_retention(session, clock.now, keep_for, dry_run=True)
    assert dry.incidents == [closed_incident]
    before = stored_text(db, closed_incident)
    assert "Agent Fictif" in before  # a dry run changes nothing
    assert "referent@tisseo.example" in before
    with db.transaction() as session:
        report = run_retention(session, clock.now, keep_for)
    assert report.incidents == [closed_incident]
    assert (report.versions, report.events, report.emails) == (2, 2, 1)
    text = stored_text(db, closed_incident)
    for value in (*PERSONAL, "referent@tisseo.example"):
        assert value not in text
    with db.transaction() as session:
        incident = session.get(Incident, closed_incident)
        assert incident.pseudonymised_at == clock.now
        assert incident.sheet["natures"] == ["physical_assault_staff", "threat_or_insult_staff"]
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "retention.pseudonymise")
        ).all()
        assert [a.resource_id for a in audited] == [closed_incident]
    with db.transaction() as session:
        assert run_retention(session, clock.now, keep_for).incidents == []  # idempotent


def test_open_incidents_are_kept_whatever_their_age(app: Any, db: Any, clock: Any) -> None:
    headers = create_tokens(db, clock.now)
    app.test_client().post("/api/v1/incidents", json=a_sheet(), headers=headers["operator"])
    clock.advance(days=400)
    with db.transaction() as session:
        assert run_retention(session, clock.now, dt.timedelta(days=SIX_MONTHS)).incidents == []


def test_retention_from_the_cli(tmp_path: Any) -> None:
    env = {
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": "",
        "BROKER_URL": "",
        "RETENTION_DAYS": "30",
    }
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    dry = runner.invoke(main, ["retention", "run", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would pseudonymise 0 incidents" in dry.output
    assert "30 days" in dry.output


def test_the_command_centres_texts_addresses_and_case_numbers_are_pseudonymised_too(
    app: Any, db: Any, clock: Any
) -> None:
    from intake_service.models import StatusChange
    from intake_service.territory import zones
    from tests.factories import submit_in_toulouse

    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "ddsp-31", "DIPN 31")])
    headers = create_tokens(db, clock.now)
    client = app.test_client()
    operator, cic = headers["operator"], headers["command_centre"]
    incident_id = submit_in_toulouse(client, headers, "RET-CIC")
    amended = client.post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json={
            "location": {"address": "12 impasse Secrète, Toulouse"},
            "references": {"police_case_number": "PV-2026-SECRET-17"},
        },
        headers=operator,
    )
    assert amended.status_code == 200, amended.get_json()
    url = f"/api/v1/incidents/{incident_id}/status"
    for body in (
        {"status": "acknowledged"},
        {"status": "dispatched", "call_sign": "TV-SECRET-9"},
        {"status": "closed", "outcome": "arrest", "comment": "Interpellé par le brigadier Dupond"},
    ):
        assert client.post(url, json=body, headers=cic).status_code == 200, body
    secrets = ("12 impasse Secrète", "PV-2026-SECRET-17", "TV-SECRET-9", "brigadier Dupond")

    def stored() -> str:
        with db.transaction() as session:
            changes = [
                c.detail
                for c in session.scalars(
                    select(StatusChange).where(StatusChange.incident_id == incident_id)
                )
            ]
        return stored_text(db, incident_id) + json.dumps(changes, ensure_ascii=False)

    assert all(secret in stored() for secret in secrets)
    clock.advance(days=SIX_MONTHS + 1)
    with db.transaction() as session:
        assert run_retention(session, clock.now, dt.timedelta(days=SIX_MONTHS)).incidents == [
            incident_id
        ]
    text = stored()
    assert [secret for secret in secrets if secret in text] == []
    with db.transaction() as session:
        closing = session.scalars(
            select(StatusChange).where(
                StatusChange.incident_id == incident_id, StatusChange.status == "closed"
            )
        ).one()
        assert closing.detail == {"outcome": "arrest", "comment": PSEUDONYM}  # the code stays


def test_the_meetings_that_discussed_an_incident_lose_its_personal_data_with_it(
    db: Any, clock: Any, closed_incident: str
) -> None:
    """The partners' minutes mask a sheet's names by reading the sheet: once retention
    has pseudonymised it, nothing would mask them. Retention masks them in the texts
    first, for good (the worker's run and the CLI's)."""
    import uuid

    from intake_service.gpo import gpos
    from intake_service.models import GpoMeeting, GpoMeetingDecision
    from workers.periodic import RetentionJob

    with db.transaction() as session:
        gpos.add_gpo(session, "gpo-ret", "GPO rétention", [], ["tisseo"], False, clock.now)
        meeting_id = str(uuid.uuid4())
        session.add(
            GpoMeeting(
                id=meeting_id,
                gpo_code="gpo-ret",
                planned_at=clock.now + dt.timedelta(days=3),
                place="Commissariat",
                status="held",
                held_at=clock.now + dt.timedelta(days=3),
                agenda=[],
                minutes="Agent Fictif, agressé, rappelé au +33612345678. Patrouilles le soir.",
                created_at=clock.now,
                created_by="referent",
                updated_at=clock.now,
                version=1,
            )
        )
        session.flush()
        session.add(
            GpoMeetingDecision(
                meeting_id=meeting_id,
                kind="note",
                text="Rencontrer Agent Fictif et son employeur.",
                detail={"who": "Agent Fictif"},
                created_at=clock.now,
                author="referent",
            )
        )
    clock.advance(days=SIX_MONTHS + 1)
    report = RetentionJob(db, keep_for=dt.timedelta(days=SIX_MONTHS), clock=clock).run_once()
    assert report.incidents == [closed_incident]
    with db.transaction() as session:
        meeting = session.get(GpoMeeting, meeting_id)
        decision = session.scalars(select(GpoMeetingDecision)).one()
        texts = json.dumps([meeting.minutes, decision.text, decision.detail], ensure_ascii=False)
    for secret in ("Agent Fictif", "Fictif", "+33612345678"):
        assert secret not in texts
    assert "Patrouilles le soir." in meeting.minutes  # the rest of the minutes stays
