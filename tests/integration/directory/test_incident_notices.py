"""Functional-mailbox notices of incidents' events, sent by the mailer to a real SMTP
server (aiosmtpd), and the daily digest; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from intake_service.command_centre import escalation
from intake_service.directory.digest import send_digests
from intake_service.models import DirectoryEntity, EmailMessage, MailboxNotice, OutboxEvent
from intake_service.territory import zones
from tests.directory_data import ZONES, add_entity, toulouse_sheet
from tests.factories import create_tokens
from tests.smtp import SmtpServer, running
from workers.consumer import apply_once
from workers.mailer import Mailer
from workers.notices import notice_handler
from workers.periodic import DigestJob

PUBLIC_URL = "https://ligne-directe.example.org"
CIC_MAILBOX = "cic@ddsp31.example.org"
OPERATOR_MAILBOX = "pc-surete@tisseo.example.org"
# What the sheets say of people (tests/factories.BASE_SHEET): never in a notice.
PERSONAL = (
    "Agent Fictif",
    "06 12 34 56 78",
    "+33612345678",
    "PC sûreté Tisséo",
    "05 61 00 00 17",
    "+33561000017",
    "Veste rouge",
    "frappé par un voyageur",
    "refusant de valider",
)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running() as server:
        yield server


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
    return headers


def submit(app: Any, headers: Any, reference: str, **changes: Any) -> str:
    response = app.test_client().post(
        "/api/v1/incidents", json=toulouse_sheet(reference, **changes), headers=headers["operator"]
    )
    assert response.status_code == 201, response.get_json()
    incident_id: str = response.get_json()["id"]
    return incident_id


def envelopes(db: Any, incident_id: str, event_type: str) -> list[dict[str, Any]]:
    with db.reading() as session:
        return list(
            session.scalars(
                select(OutboxEvent.envelope)
                .where(OutboxEvent.incident_id == incident_id, OutboxEvent.event_type == event_type)
                .order_by(OutboxEvent.position)
            )
        )


def apply(db: Any, clock: Any, envelope: dict[str, Any]) -> bool:
    """The notices consumer's work on one delivery of ``envelope``."""
    return apply_once(db, "notices", envelope, notice_handler(PUBLIC_URL, clock), clock.now)


def apply_all(db: Any, clock: Any, incident_id: str, event_type: str) -> None:
    for envelope in envelopes(db, incident_id, event_type):
        apply(db, clock, envelope)


def count(db: Any, model: Any, *where: Any) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def mailer(db: Any, clock: Any, server: SmtpServer) -> Mailer:
    return Mailer(db, server.url, "ligne-directe@gpo.example", clock=clock, timeout_seconds=2)


def p2_sheet_changes() -> dict[str, Any]:
    """In progress, no weapon, no injury, no violence: P2."""
    return {
        "channel": "phone",
        "natures": ["threat_or_insult_staff"],
        "primary_nature": "threat_or_insult_staff",
        "injuries": {"count": 0, "severity": "none"},
        "victims": [],
    }


def test_a_p1_sheet_sends_one_urgent_notice_to_the_service_mailbox(
    app, db, clock, headers, smtp_server
):
    add_entity(db, "police_service", "ddsp-31", clock.now, mailbox=CIC_MAILBOX)
    incident_id = submit(app, headers, "TSO-NOTICE-1")
    (submitted,) = envelopes(db, incident_id, "incident.submitted")
    assert apply(db, clock, submitted) is True
    assert apply(db, clock, submitted) is False  # a redelivery: applied once
    assert count(db, MailboxNotice) == 1
    assert mailer(db, clock, smtp_server).send_due() == 1

    (message,) = smtp_server.wait_for(lambda messages: len(messages) == 1)
    assert message["To"] == CIC_MAILBOX
    assert message["Subject"].startswith("[P1] Nouvel incident")
    assert "TSO-NOTICE-1" in message["Subject"]
    text = message.get_content()
    assert f"{PUBLIC_URL}/console/incidents/{incident_id}" in text
    assert "P1 (immédiate)" in text
    leaked = [value for value in PERSONAL if value in text or value in message["Subject"]]
    assert not leaked, leaked
    with db.reading() as session:
        email = session.scalar(select(EmailMessage))
        assert email is not None
        assert email.state == "sent"


def test_the_same_event_twice_writes_one_notice_even_as_two_deliveries(app, db, clock, headers):
    add_entity(db, "police_service", "ddsp-31", clock.now, mailbox=CIC_MAILBOX)
    incident_id = submit(app, headers, "TSO-NOTICE-2")
    (submitted,) = envelopes(db, incident_id, "incident.submitted")
    # Not the consumer's record this time: the notice's own dedup key.
    handler = notice_handler(PUBLIC_URL, clock)
    for _ in range(2):
        with db.transaction() as session:
            handler(session, submitted)
    assert count(db, MailboxNotice) == 1
    assert count(db, EmailMessage) == 1


def test_an_opted_out_kind_writes_nothing(app, db, clock, headers):
    add_entity(db, "police_service", "ddsp-31", clock.now, notices=["escalation", "rfi"])
    incident_id = submit(app, headers, "TSO-NOTICE-3")
    apply_all(db, clock, incident_id, "incident.submitted")
    assert count(db, MailboxNotice) == 0
    assert count(db, EmailMessage) == 0


def test_a_p2_raised_to_p1_notifies_again_and_lowered_back_does_not(app, db, clock, headers):
    add_entity(db, "police_service", "ddsp-31", clock.now, mailbox=CIC_MAILBOX)
    incident_id = submit(app, headers, "TSO-NOTICE-4", **p2_sheet_changes())
    apply_all(db, clock, incident_id, "incident.submitted")
    client = app.test_client()
    raised = client.post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json={"injuries": {"count": 1, "severity": "minor"}},
        headers=headers["operator"],
    )
    assert raised.status_code == 200, raised.get_json()
    assert raised.get_json()["priority"] == "P1"
    apply_all(db, clock, incident_id, "incident.amended")
    lowered = client.post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json={"injuries": {"count": 0, "severity": "none"}},
        headers=headers["operator"],
    )
    assert lowered.get_json()["priority"] == "P2"
    apply_all(db, clock, incident_id, "incident.amended")
    with db.reading() as session:
        subjects = list(session.scalars(select(MailboxNotice.subject).order_by(MailboxNotice.id)))
    assert [subject[:4] for subject in subjects] == ["[P2]", "[P1]"]
    assert "passé en P1" in subjects[1]


def test_a_rejection_goes_to_the_operator_and_an_escalation_to_the_service(app, db, clock, headers):
    add_entity(db, "police_service", "ddsp-31", clock.now, mailbox=CIC_MAILBOX)
    add_entity(db, "operator", "tisseo", clock.now, mailbox=OPERATOR_MAILBOX)
    escalated_id = submit(app, headers, "TSO-NOTICE-5")
    rejected_id = submit(app, headers, "TSO-NOTICE-6")
    clock.advance(minutes=3)
    with db.transaction() as session:
        assert set(escalation.escalate_overdue(session, clock.now)) >= {escalated_id}
    response = app.test_client().post(
        f"/api/v1/incidents/{rejected_id}/status",
        json={"status": "rejected", "cause": "Hors de notre ressort, voyez M. Durand."},
        headers=headers["command_centre"],
    )
    assert response.status_code == 200, response.get_json()
    for incident_id in (escalated_id, rejected_id):
        for event_type in ("incident.escalated", "incident.status_changed"):
            apply_all(db, clock, incident_id, event_type)
            apply_all(db, clock, incident_id, event_type)  # redelivered: nothing more
    with db.reading() as session:
        notices = {
            (notice.kind, notice.incident_id): notice
            for notice in session.scalars(select(MailboxNotice))
        }
        emails = {email.id: email for email in session.scalars(select(EmailMessage))}
    assert set(notices) == {("escalation", escalated_id), ("rejection", rejected_id)}
    rejection = notices[("rejection", rejected_id)]
    email = emails[rejection.email_id]
    assert email.recipients == [OPERATOR_MAILBOX]
    assert f"/operateur/incidents/{rejected_id}" in email.body
    assert "Durand" not in email.body  # the cause is free text: on the page, not in a mailbox
    assert emails[notices[("escalation", escalated_id)].email_id].recipients == [CIC_MAILBOX]


def test_a_digest_entity_gets_its_notices_once_a_day_in_one_email(
    app, db, clock, headers, smtp_server
):
    add_entity(db, "police_service", "ddsp-31", clock.now, mailbox=CIC_MAILBOX, digest=True)
    first = submit(app, headers, "TSO-DIGEST-1")
    second = submit(app, headers, "TSO-DIGEST-2")
    for incident_id in (first, second):
        apply_all(db, clock, incident_id, "incident.submitted")
    assert count(db, MailboxNotice, MailboxNotice.state == "digest") == 2
    assert count(db, EmailMessage) == 0  # nothing until the digest

    # The reference instant is 18:30 in Paris: past the hour, the job sends.
    job = DigestJob(db, hour=7, clock=clock)
    assert len(job.run_once()) == 1
    assert job.run_once() == []  # the second run of the day: nothing
    assert mailer(db, clock, smtp_server).send_due() == 1
    (message,) = smtp_server.wait_for(lambda messages: len(messages) == 1)
    assert message["To"] == CIC_MAILBOX
    assert message["Subject"] == "Ligne directe – avis du 14/03/2026"
    text = message.get_content()
    assert "TSO-DIGEST-1" in text
    assert "TSO-DIGEST-2" in text
    assert "2 avis" in text
    assert not [value for value in PERSONAL if value in text]
    assert count(db, MailboxNotice, MailboxNotice.state == "digested") == 2

    # A notice after today's digest waits for tomorrow's.
    third = submit(app, headers, "TSO-DIGEST-3")
    apply_all(db, clock, third, "incident.submitted")
    assert job.run_once() == []
    clock.now = dt.datetime(2026, 3, 15, 5, 30, tzinfo=dt.UTC)  # 6:30 in Paris: not yet
    assert job.run_once() == []
    clock.now = dt.datetime(2026, 3, 15, 6, 0, tzinfo=dt.UTC)  # 7:00 in Paris
    assert len(job.run_once()) == 1
    with db.reading() as session:
        digests = list(session.scalars(select(EmailMessage).where(EmailMessage.kind == "digest")))
    assert len(digests) == 2
    assert "TSO-DIGEST-3" in digests[1].body
    assert "TSO-DIGEST-1" not in digests[1].body
    assert digests[1].subject == "Ligne directe – avis du 15/03/2026"


def test_a_digest_without_a_mailbox_is_a_visible_failure(app, db, clock, headers):
    add_entity(db, "police_service", "ddsp-31", clock.now, digest=True)
    incident_id = submit(app, headers, "TSO-DIGEST-4")
    apply_all(db, clock, incident_id, "incident.submitted")
    with db.transaction() as session:
        notice = session.scalar(select(MailboxNotice))
        assert notice is not None
        found = session.get(DirectoryEntity, notice.entity_id)
        assert found is not None
        found.mailbox = None
    with db.transaction() as session:
        (email_id,) = send_digests(session, clock.now)
        email = session.get(EmailMessage, email_id)
        assert email is not None
        assert email.state == "failed"
        assert email.last_error
