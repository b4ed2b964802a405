"""Appointment notices through a real SMTP server (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest
from sqlalchemy import select

from intake_service.appointments import notifications, policy
from intake_service.models import Appointment, EmailMessage, OutboxEvent
from tests.appointment_data import (
    add_request,
    add_slot,
    add_station,
    book,
    page_client,
    set_referent,
    victim_sheet,
)
from tests.factories import create_tokens
from tests.smtp import SmtpServer, calendar_part, running
from workers.appointments import AppointmentWorker
from workers.consumer import apply_once
from workers.mailer import Mailer, backoff, parse_smtp_url

SLOT_START = dt.datetime(2026, 3, 16, 8, 30, tzinfo=dt.UTC)  # Monday 9:30 in Paris
REFERRAL = "transmet vos coordonnées à France Victimes"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running() as server:
        yield server


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    tokens = create_tokens(db, clock.now)
    set_referent(db, "tisseo", "referent@tisseo.example")
    add_station(db, clock.now)
    return tokens


def overrides(app: Any) -> Path | None:
    """The email texts' folder of the app's configuration, as its use cases are given it."""
    return policy.policy_of(app.extensions["intake.config"]).email_overrides


def booked_appointment(app: Any, db: Any, clock: Any, headers: Any, **victim: Any) -> int:
    """An incident posted over the API, its request and an appointment, with the booked notice."""
    reference = f"TSO-MAIL-{len(victim)}-{sorted(victim)}"[:60]
    response = app.test_client().post(
        "/api/v1/incidents", json=victim_sheet(reference, **victim), headers=headers["operator"]
    )
    assert response.status_code == 201, response.get_json()
    request_id = add_request(db, response.get_json()["id"], clock.now)
    appointment_id = book(db, request_id, add_slot(db, "csp-toulouse", SLOT_START), clock.now)
    with db.transaction() as session:
        notifications.appointment_notice(
            session, appointment_id, "booked", clock.now, overrides=overrides(app)
        )
    return appointment_id


def mailer(db: Any, clock: Any, server: SmtpServer, **options: Any) -> Mailer:
    return Mailer(db, server.url, "rdv@gpo.example", clock=clock, timeout_seconds=2, **options)


def test_the_booked_email_reaches_the_server_with_its_calendar_file(
    app, db, clock, headers, smtp_server
):
    appointment_id = booked_appointment(app, db, clock, headers)
    assert mailer(db, clock, smtp_server).send_due() == 1

    (message,) = smtp_server.wait_for(lambda messages: len(messages) == 1)
    assert smtp_server.handler.envelopes == [
        ["agent.fictif@example.org", "referent@tisseo.example"]
    ]
    assert message["From"] == "rdv@gpo.example"
    body = message.get_body(("plain",)).get_content()
    assert "lundi 16 mars 2026 à 9 h 30" in body  # Paris time
    assert "Commissariat central de Toulouse" in body
    assert "boulevard de l'Embouchure" in body
    assert "TSO-MAIL" in body
    assert "pièce d'identité" in body
    assert "France Victimes : 116 006, appel gratuit, 7j/7" in body
    assert REFERRAL not in body  # no victim_support_referral consent
    part = calendar_part(message)
    assert part is not None
    assert part.get_param("method") == "REQUEST"
    calendar = icalendar.Calendar.from_ical(part.get_content())
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == SLOT_START
    assert event.decoded("DTEND") > SLOT_START
    assert "Commissariat central de Toulouse" in str(event["LOCATION"])
    with db.transaction() as session:
        email = session.scalars(select(EmailMessage)).one()
        assert (email.state, email.attempts, email.appointment_id) == ("sent", 1, appointment_id)


def test_the_referral_line_is_there_only_with_the_victims_consent(
    app, db, clock, headers, smtp_server
):
    booked_appointment(
        app,
        db,
        clock,
        headers,
        consents={"appointment_contact": True, "victim_support_referral": True},
    )
    mailer(db, clock, smtp_server).send_due()
    (message,) = smtp_server.wait_for(lambda messages: len(messages) == 1)
    body = message.get_body(("plain",)).get_content()
    assert REFERRAL in body
    assert "116 006" in body


def test_a_victim_without_email_is_reached_through_the_operators_referent(
    app, db, clock, headers, smtp_server
):
    booked_appointment(app, db, clock, headers, contact={"name": "A", "phone": "0612345678"})
    mailer(db, clock, smtp_server).send_due()
    (message,) = smtp_server.wait_for(lambda messages: len(messages) == 1)
    assert smtp_server.handler.envelopes == [["referent@tisseo.example"]]
    assert (
        "la victime n'a pas donné d'adresse électronique"
        in message.get_body(("plain",)).get_content()
    )


def test_smtp_down_is_retried_with_its_error_then_delivered_and_the_booking_stays(
    app, db, clock, headers, smtp_server
):
    appointment_id = booked_appointment(app, db, clock, headers)
    smtp_server.stop()
    sender = mailer(db, clock, smtp_server, first_retry=dt.timedelta(seconds=30))
    assert sender.send_due() == 1
    with db.transaction() as session:
        email = session.scalars(select(EmailMessage)).one()
        assert email.state == "pending"
        assert email.attempts == 1
        assert email.last_error is not None
        assert "ConnectionRefused" in email.last_error
        assert email.next_attempt_at.replace(tzinfo=dt.UTC) == clock.now + dt.timedelta(seconds=30)
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        assert appointment.status == "booked"
    assert sender.send_due() == 0  # not due yet
    clock.advance(seconds=31)
    assert sender.send_due() == 1  # second failure: the wait doubles
    with db.transaction() as session:
        email = session.scalars(select(EmailMessage)).one()
        assert email.attempts == 2
        assert email.next_attempt_at.replace(tzinfo=dt.UTC) == clock.now + dt.timedelta(seconds=60)

    smtp_server.start()
    clock.advance(seconds=61)
    assert sender.send_due() == 1
    smtp_server.wait_for(lambda messages: len(messages) == 1)
    with db.transaction() as session:
        email = session.scalars(select(EmailMessage)).one()
        assert (email.state, email.attempts, email.last_error) == ("sent", 3, None)
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        assert appointment.status == "booked"


def test_an_email_is_failed_after_the_last_attempt_and_the_booking_stays(
    app, db, clock, headers, smtp_server
):
    appointment_id = booked_appointment(app, db, clock, headers)
    smtp_server.stop()
    sender = mailer(db, clock, smtp_server, max_attempts=2, first_retry=dt.timedelta(0))
    sender.send_due()
    sender.send_due()
    with db.transaction() as session:
        email = session.scalars(select(EmailMessage)).one()
        assert (email.state, email.attempts) == ("failed", 2)
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        assert appointment.status == "booked"
    assert sender.send_due() == 0


def test_a_cancellation_cancels_the_same_calendar_event(app, db, clock, headers, smtp_server):
    appointment_id = booked_appointment(app, db, clock, headers)
    with db.transaction() as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        appointment.status = "cancelled"
        appointment.end_reason = "Officier indisponible"
        notifications.appointment_notice(
            session, appointment_id, "cancelled", clock.now, overrides=overrides(app)
        )
    mailer(db, clock, smtp_server).send_due()
    booked, cancelled = smtp_server.wait_for(lambda messages: len(messages) == 2)
    first = icalendar.Calendar.from_ical(calendar_part(booked).get_content())  # type: ignore[union-attr]
    part = calendar_part(cancelled)
    assert part is not None
    assert part.get_param("method") == "CANCEL"
    second = icalendar.Calendar.from_ical(part.get_content())
    (event_1,) = first.walk("VEVENT")
    (event_2,) = second.walk("VEVENT")
    assert str(second["METHOD"]) == "CANCEL"
    # RFC 5546 §3.2.2 and §3.2.5: REQUEST and CANCEL name their ORGANIZER and ATTENDEEs.
    for event in (event_1, event_2):
        assert str(event["ORGANIZER"]).startswith("mailto:")
        assert event["ORGANIZER"].params["CN"]
        attendees = event["ATTENDEE"]
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert {str(a) for a in attendees} == {
            f"mailto:{address}" for address in booked["To"].split(", ")
        }
        assert {a.params["RSVP"] for a in attendees} == {"FALSE"}
    assert str(event_2["UID"]) == str(event_1["UID"])
    assert int(event_2["SEQUENCE"]) > int(event_1["SEQUENCE"])
    body = cancelled.get_body(("plain",)).get_content()
    assert "annulé" in body
    assert "Officier indisponible" in body
    assert "116 006" in body


def test_the_text_of_a_deployment_replaces_the_packaged_one(
    app, db, clock, headers, smtp_server, config
):
    (config.instance_path / "emails").mkdir(parents=True)
    (config.instance_path / "emails" / "appointment_booked.txt").write_text(
        "Texte du réseau : RDV {{ starts }} au {{ station_name }}.\n{% include '_footer.txt' %}"
    )
    booked_appointment(app, db, clock, headers)
    mailer(db, clock, smtp_server).send_due()
    (message,) = smtp_server.wait_for(lambda messages: len(messages) == 1)
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Texte du réseau : RDV lundi 16 mars 2026 à 9 h 30")
    assert "116 006" in body


NOTICES = ("appointment_booked", "appointment_rescheduled", "appointment_cancelled")


def test_the_app_and_the_worker_use_the_configured_folder_whatever_instance_path_says(
    app, db, clock, headers, config, tmp_path, monkeypatch
):
    """Booked by the worker, moved over the API, cancelled on the station's page: each
    notice has the text of the configured instance folder, not of ``INSTANCE_PATH``'s."""
    (config.instance_path / "emails").mkdir(parents=True)
    for name in NOTICES:
        (config.instance_path / "emails" / f"{name}.txt").write_text(f"Configuré : {name}.\n")
    other = tmp_path / "elsewhere"
    (other / "emails").mkdir(parents=True)
    for name in NOTICES:
        (other / "emails" / f"{name}.txt").write_text(f"Environnement : {name}.\n")
    # The environment names another folder: only the app's configuration counts.
    monkeypatch.setenv("INSTANCE_PATH", str(other))

    sheet = victim_sheet("TSO-CONF-1")
    sheet["location"]["insee_code"] = "31555"
    response = app.test_client().post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 201, response.get_json()
    first = add_slot(db, "csp-toulouse", SLOT_START)
    second = add_slot(db, "csp-toulouse", SLOT_START + dt.timedelta(hours=2))
    with db.transaction() as session:
        envelope = session.scalars(
            select(OutboxEvent.envelope).where(OutboxEvent.incident_id == response.get_json()["id"])
        ).one()
    worker = AppointmentWorker(config, db, clock=clock)
    assert apply_once(db, "appointments", envelope, worker.consumer.handler, clock.now)
    with db.transaction() as session:
        booked = session.scalars(select(Appointment).where(Appointment.slot_id == first)).one()
    moved = app.test_client().post(
        f"/api/v1/appointments/{booked.id}/reschedule",
        json={"slot_id": second, "reason": "Horaires de service."},
        headers=headers["operator"],
    )
    assert moved.status_code == 200, moved.get_json()
    officer = page_client(app, db, clock.now, "station_officer", "csp-toulouse")
    cancelled = officer.post(
        f"/commissariat/rendez-vous/{moved.get_json()['id']}/annuler",
        data={"motif": "Officier indisponible."},
    )
    assert cancelled.status_code == 303

    with db.transaction() as session:
        bodies = session.execute(
            select(EmailMessage.kind, EmailMessage.body).order_by(EmailMessage.id)
        ).all()
    assert [tuple(row) for row in bodies] == [
        (kind, f"Configuré : appointment_{kind}.\n")
        for kind in ("booked", "rescheduled", "cancelled")
    ]


def test_a_waiting_request_alerts_the_stations_referent(app, db, clock, headers, smtp_server):
    response = app.test_client().post(
        "/api/v1/incidents", json=victim_sheet("TSO-WAIT-1"), headers=headers["operator"]
    )
    request_id = add_request(db, response.get_json()["id"], clock.now)
    with db.transaction() as session:
        notifications.waiting_alert(session, request_id, clock.now, overrides=overrides(app))
    mailer(db, clock, smtp_server).send_due()
    (message,) = smtp_server.wait_for(lambda messages: len(messages) == 1)
    assert smtp_server.handler.envelopes == [["referent@csp-toulouse.example"]]
    body = message.get_body(("plain",)).get_content()
    assert "TSO-WAIT-1" in body
    assert "Agent Fictif" not in body  # no name in the alert
    assert calendar_part(message) is None


def test_without_smtp_url_the_mailer_keeps_emails_pending(app, db, clock, headers):
    booked_appointment(app, db, clock, headers)
    assert Mailer(db, None, "rdv@gpo.example", clock=clock).send_due() == 0
    with db.transaction() as session:
        assert session.scalars(select(EmailMessage)).one().state == "pending"


def test_smtp_urls_and_backoff():
    target = parse_smtp_url("smtps://user%40x:p%3Ass@mail.example:2465")
    assert (target.host, target.port, target.implicit_tls) == ("mail.example", 2465, True)
    assert (target.username, target.password) == ("user@x", "p:ss")
    assert parse_smtp_url("smtp://mail.example?starttls=yes").starttls is True
    assert parse_smtp_url("smtp://mail.example").port == 25
    with pytest.raises(ValueError, match="SMTP_URL"):
        parse_smtp_url("http://mail.example")
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(40) == dt.timedelta(hours=2)
