"""``appointment`` notices: a booked appointment, or a request waiting for a slot, to the
operator's and the station's functional mailboxes; facts only, once each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from intake_service.appointments import notifications
from intake_service.models import EmailMessage, Incident, MailboxNotice
from tests.appointment_data import add_request, add_slot, add_station, book
from tests.directory_data import add_entity, setting

SLOT_START = dt.datetime(2026, 3, 16, 8, 30, tzinfo=dt.UTC)  # Monday 9:30 in Paris
PUBLIC_URL = "https://ligne-directe.example.org"


def notices(db: Any) -> list[tuple[MailboxNotice, EmailMessage]]:
    with db.reading() as session:
        rows = session.execute(
            select(MailboxNotice, EmailMessage)
            .join(EmailMessage, EmailMessage.id == MailboxNotice.email_id)
            .order_by(MailboxNotice.id)
        )
        return [(notice, email) for notice, email in rows]


def test_a_booking_and_a_wait_notify_the_operator_and_the_station(app, db, clock):
    setting(app, clock.now)
    add_station(db, clock.now)
    add_entity(db, "operator", "tisseo", clock.now, mailbox="pc@tisseo.example.org")
    add_entity(db, "police_station", "csp-toulouse", clock.now, mailbox="plainte@csp.example.org")
    with db.reading() as session:
        incident_id = session.scalars(select(Incident.id)).one()
    request_id = add_request(db, incident_id, clock.now)
    appointment_id = book(db, request_id, add_slot(db, "csp-toulouse", SLOT_START), clock.now)
    for _ in range(2):  # written twice: notified once
        with db.transaction() as session:
            notifications.appointment_notice(
                session, appointment_id, "booked", clock.now, overrides=None, public_url=PUBLIC_URL
            )
    booked = notices(db)
    assert sorted(email.recipients[0] for _, email in booked) == [
        "pc@tisseo.example.org",
        "plainte@csp.example.org",
    ]
    for notice, email in booked:
        assert notice.kind == "appointment"
        assert "Commissariat central de Toulouse" in email.body
        assert "16/03/2026" in email.subject or "16 mars 2026" in email.subject
        assert "TSO-DIR-1" in email.body
        assert "Agent Fictif" not in email.body + email.subject
        assert "06 12 34 56 78" not in email.body
    assert f"{PUBLIC_URL}/suivi/rendez-vous" in booked[0][1].body

    waiting = add_request(db, incident_id, clock.now, victim_index=1)
    with db.transaction() as session:
        notifications.waiting_alert(session, waiting, clock.now, overrides=None)
    assert len(notices(db)) == 4
    assert all("attend un créneau" in email.body for _, email in notices(db)[2:])
