"""A withdrawn incident gives its appointments back (appointments.md), on SQLite and PostgreSQL.

Sheets are posted and withdrawn over HTTP; the ``incident.withdrawn`` event is applied
as the appointments worker applies it (``apply_once`` with its handler), with the
test's clock. The reference instant is Saturday 14 March 2026, 18:30 in Toulouse.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text

from intake_service.appointments import booking, changes, incident_events, queries, slots
from intake_service.feed.topology import connect, internal_queue
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    AuditEntry,
    EmailMessage,
    OutboxEvent,
)
from intake_service.platform.db import Database
from intake_service.platform.errors import Refused
from tests.appointment_data import set_referent
from tests.brokers import broker_url, drop_namespace, fresh_namespace
from tests.conftest import Clock
from tests.integration.appointments.test_booking import (
    MONDAY,
    OFFICER,
    OPERATOR,
    POLICY,
    book,
    live,
    open_slots,
    paris,
    request_states,
    setup,
    submit,
    victim,
)
from workers.appointments import AppointmentWorker, booking_handler
from workers.consumer import apply_once
from workers.relay import Relay
from workers.runner import run_workers

VICTIM_EMAIL = "agent.fictif@example.org"
REFERENT = "referent@tisseo.example"
OPERATOR_REASON = "Fiche envoyée en double par le PC sûreté."


def prepare(db: Database, clock: Clock) -> dict[str, dict[str, str]]:
    headers = setup(db, clock)
    set_referent(db, "tisseo", REFERENT)
    return headers


def reserved_slot(db: Database, clock: Clock, hour: int) -> int:
    with db.transaction() as session:
        return slots.create_slot(
            session,
            "csp-toulouse",
            paris(MONDAY, hour),
            paris(MONDAY, hour, 30),
            reserved=True,
            now=clock.now,
            policy=POLICY,
        ).id


def withdraw(app: Any, headers: dict[str, dict[str, str]], incident_id: str) -> None:
    response = app.test_client().post(
        f"/api/v1/incidents/{incident_id}/withdrawal",
        json={"reason": OPERATOR_REASON},
        headers=headers["operator"],
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "withdrawn"


def withdrawal_event(db: Database, incident_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        envelope: dict[str, Any] = session.scalars(
            select(OutboxEvent.envelope).where(
                OutboxEvent.incident_id == incident_id,
                OutboxEvent.event_type == "incident.withdrawn",
            )
        ).one()
        return envelope


def apply(db: Database, clock: Clock, envelope: dict[str, Any]) -> bool:
    handler = booking_handler(POLICY, clock)
    return apply_once(db, "appointments", envelope, handler, clock.now)


def emails(db: Database) -> list[tuple[str, list[Any], int | None, str]]:
    """(kind, recipients, appointment id, body) of every email written, in order."""
    with db.transaction() as session:
        rows = session.execute(
            select(
                EmailMessage.kind,
                EmailMessage.recipients,
                EmailMessage.appointment_id,
                EmailMessage.body,
            ).order_by(EmailMessage.id)
        ).all()
        return [tuple(row) for row in rows]


def audit_actions(db: Database) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """(actor, action, resource id, detail) of the appointment entries, in order."""
    with db.transaction() as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.resource_id, AuditEntry.detail)
            .where(AuditEntry.action.like("appointment%"))
            .order_by(AuditEntry.id)
        ).all()
        return [tuple(row) for row in rows]


def slot_is_free(db: Database, slot_id: int, clock: Clock) -> bool:
    with db.transaction() as session:
        free = session.scalars(
            booking.free_slots_query("csp-toulouse", clock.now, None, set())
        ).all()
        return slot_id in {slot.id for slot in free}


def test_a_withdrawal_cancels_the_booking_ends_the_requests_and_frees_the_slot(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = prepare(db, clock)
    only = reserved_slot(db, clock, 9)
    # Victim 0 gets the only slot, victim 1 waits, victim 2 (undecided) has an offer.
    withdrawn = submit(
        app,
        headers,
        "WD-1",
        [
            victim(contact={"name": "Agent Fictif", "email": VICTIM_EMAIL}),
            victim(),
            victim(wants_to_file_complaint="undecided"),
        ],
    )
    assert book(db, withdrawn, clock.now) == [(0, "booked"), (1, "waiting"), (2, "offered")]
    clock.advance(minutes=1)
    other = submit(app, headers, "WD-OTHER")
    assert book(db, other, clock.now) == [(0, "waiting")]
    [(_, _, _, status)] = live(db, withdrawn)
    assert status == "booked"
    assert not slot_is_free(db, only, clock)
    before = len(emails(db))

    clock.advance(hours=1)
    withdraw(app, headers, withdrawn)
    # Until the event is applied, the withdrawn incident's offer cannot be accepted.
    with db.transaction() as session:
        offer_id = session.scalars(
            select(AppointmentRequest.id).where(
                AppointmentRequest.incident_id == withdrawn, AppointmentRequest.victim_index == 2
            )
        ).one()
        with pytest.raises(Refused):
            changes.accept_offer(session, OPERATOR, offer_id, clock.now, policy=POLICY)
    assert apply(db, clock, withdrawal_event(db, withdrawn)) is True

    assert request_states(db, withdrawn) == [
        (0, "cancelled", "csp-toulouse"),
        (1, "cancelled", "csp-toulouse"),
        (2, "declined", "csp-toulouse"),
    ]
    [(slot_id, _, _, status)] = live(db, withdrawn)
    assert (slot_id, status) == (only, "cancelled")
    # The freed slot went at once to the station's next waiting request.
    assert [(slot, status) for slot, _, _, status in live(db, other)] == [(only, "booked")]
    assert request_states(db, other) == [(0, "booked", "csp-toulouse")]
    with db.transaction() as session:
        queue = queries.station_queue(session, OFFICER, "csp-toulouse")
        assert queue == []

    written = emails(db)[before:]
    assert [kind for kind, *_ in written] == ["cancelled", "booked"]
    _, recipients, appointment_id, body = written[0]
    assert recipients == [VICTIM_EMAIL, REFERENT]
    assert incident_events.WITHDRAWAL_REASON in body
    assert OPERATOR_REASON not in body  # written for the command centre, not the victim
    with db.transaction() as session:
        cancelled = session.get(Appointment, appointment_id)
        assert cancelled is not None
        assert cancelled.end_reason == incident_events.WITHDRAWAL_REASON
        assert cancelled.ended_at == clock.now

    ending = ("appointment.cancel", "appointment_request.cancel", "appointment_request.decline")
    journal = [
        (actor, action, detail)
        for actor, action, _, detail in audit_actions(db)
        if action in ending
    ]
    assert journal == [
        (
            "worker:appointments",
            "appointment.cancel",
            {"slot_id": only, "cause": "incident_withdrawn"},
        ),
        ("worker:appointments", "appointment_request.cancel", {"reason": "incident_withdrawn"}),
        ("worker:appointments", "appointment_request.decline", {"reason": "incident_withdrawn"}),
    ]


def test_a_freed_slot_is_bookable_again(app: Any, db: Database, clock: Clock) -> None:
    """With nobody waiting, the slot is free again for the next booking."""
    headers = prepare(db, clock)
    only = reserved_slot(db, clock, 9)
    withdrawn = submit(app, headers, "WD-FREE-1")
    assert book(db, withdrawn, clock.now) == [(0, "booked")]
    withdraw(app, headers, withdrawn)
    apply(db, clock, withdrawal_event(db, withdrawn))
    assert slot_is_free(db, only, clock)

    later = submit(app, headers, "WD-FREE-2")
    assert book(db, later, clock.now) == [(0, "booked")]
    assert [(slot, status) for slot, _, _, status in live(db, later)] == [(only, "booked")]


def test_a_replayed_withdrawal_changes_nothing(app: Any, db: Database, clock: Clock) -> None:
    headers = prepare(db, clock)
    reserved_slot(db, clock, 9)
    withdrawn = submit(app, headers, "WD-AGAIN-1", [victim(), victim()])
    assert book(db, withdrawn, clock.now) == [(0, "booked"), (1, "waiting")]
    withdraw(app, headers, withdrawn)
    envelope = withdrawal_event(db, withdrawn)
    assert apply(db, clock, envelope) is True
    after_first = (
        request_states(db, withdrawn),
        live(db, withdrawn),
        emails(db),
        audit_actions(db),
    )

    # Delivered again (consumer killed before its ack): not applied.
    clock.advance(minutes=5)
    assert apply(db, clock, envelope) is False
    # Even applied again by hand, later, or with the submission event arriving late:
    # nothing is cancelled, written or booked twice.
    clock.advance(minutes=5)
    assert book(db, withdrawn, clock.now) == [(0, "cancelled"), (1, "cancelled")]
    with db.transaction() as session:
        submitted = session.scalars(
            select(OutboxEvent.envelope).where(
                OutboxEvent.incident_id == withdrawn,
                OutboxEvent.event_type == "incident.submitted",
            )
        ).one()
    assert apply(db, clock, submitted) is True

    assert (
        request_states(db, withdrawn),
        live(db, withdrawn),
        emails(db),
        audit_actions(db),
    ) == after_first
    assert [kind for kind, *_ in emails(db)].count("cancelled") == 1


def test_an_appointment_that_has_started_is_left_to_the_station(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = prepare(db, clock)
    early, late = reserved_slot(db, clock, 9), reserved_slot(db, clock, 11)
    withdrawn = submit(app, headers, "WD-PAST-1", [victim(), victim()])
    assert book(db, withdrawn, clock.now) == [(0, "booked"), (1, "booked")]
    # Monday 9:10: the first appointment has started, the second is to come.
    clock.now = paris(MONDAY, 9, 10)
    withdraw(app, headers, withdrawn)
    apply(db, clock, withdrawal_event(db, withdrawn))

    assert [(slot, status) for slot, _, _, status in live(db, withdrawn)] == [
        (early, "booked"),
        (late, "cancelled"),
    ]
    assert request_states(db, withdrawn) == [
        (0, "booked", "csp-toulouse"),
        (1, "cancelled", "csp-toulouse"),
    ]
    with db.transaction() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.kind == "cancelled")
            )
            == 1
        )
        started = session.scalars(select(Appointment).where(Appointment.slot_id == early)).one()
        # The station still records whether the victim came.
        done = changes.mark_outcome(session, OFFICER, started.id, "honoured", clock.now)
        assert done.status == "honoured"


def test_until_the_withdrawal_is_applied_a_freed_slot_skips_its_waiting_request(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = prepare(db, clock)
    withdrawn = submit(app, headers, "WD-SKIP-1")
    assert book(db, withdrawn, clock.now) == [(0, "waiting")]
    clock.advance(minutes=1)
    other = submit(app, headers, "WD-SKIP-2")
    assert book(db, other, clock.now) == [(0, "waiting")]
    withdraw(app, headers, withdrawn)

    # A slot opens before the worker has applied the withdrawal: the next request gets it.
    slot = reserved_slot(db, clock, 9)
    assert live(db, withdrawn) == []
    assert [(s, status) for s, _, _, status in live(db, other)] == [(slot, "booked")]
    apply(db, clock, withdrawal_event(db, withdrawn))
    assert request_states(db, withdrawn) == [(0, "cancelled", "csp-toulouse")]
    assert [kind for kind, *_ in emails(db)].count("cancelled") == 0


@pytest.mark.broker
def test_the_worker_receives_the_withdrawal_from_the_broker(
    app: Any, db: Database, clock: Clock, config: Any
) -> None:
    url = broker_url("redis")
    namespace = fresh_namespace()
    settings = config.with_overrides({"broker_url": url, "broker_namespace": namespace})
    headers = prepare(db, clock)
    open_slots(db, clock, MONDAY)
    with connect(url) as connection:
        internal_queue("appointments", namespace)(connection.default_channel).declare()
    incident_id = submit(app, headers, "WD-WORKER-1")

    def statuses() -> list[str]:
        return [status for _, _, _, status in live(db, incident_id)]

    def wait_for(expected: list[str]) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and statuses() != expected:
            time.sleep(0.1)

    stop = threading.Event()
    workers = [
        Relay(db, url, namespace=namespace, clock=clock, poll_seconds=0.1),
        AppointmentWorker(settings, db, clock=clock),
    ]
    thread = threading.Thread(target=run_workers, args=(workers, stop), daemon=True)
    thread.start()
    try:
        wait_for(["booked"])
        assert statuses() == ["booked"]
        withdraw(app, headers, incident_id)
        wait_for(["cancelled"])
    finally:
        stop.set()
        thread.join(timeout=30)
        drop_namespace(url, namespace)
    assert statuses() == ["cancelled"]
    assert request_states(db, incident_id) == [(0, "cancelled", "csp-toulouse")]
    assert [kind for kind, *_ in emails(db)] == ["booked", "cancelled"]


@pytest.mark.postgres
def test_a_move_racing_the_withdrawal_is_cancelled_too(pg_app: Any, clock: Clock) -> None:
    """A station moves the appointment while the worker applies the withdrawal: the
    worker waits for the move's lock, then cancels the new appointment, not only the old."""
    db: Database = pg_app.extensions["intake.db"]
    headers = prepare(db, clock)
    first, other = reserved_slot(db, clock, 9), reserved_slot(db, clock, 11)
    withdrawn = submit(pg_app, headers, "WD-RACE-1")
    assert book(db, withdrawn, clock.now) == [(0, "booked")]
    withdraw(pg_app, headers, withdrawn)
    envelope = withdrawal_event(db, withdrawn)
    with db.transaction() as session:
        appointment_id = session.scalars(select(Appointment.id)).one()

    moved, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def move() -> None:
        try:
            with db.transaction() as session:
                changes.reschedule(
                    session, OFFICER, appointment_id, other, "Plus tard.", clock.now, policy=POLICY
                )
                moved.set()
                assert go.wait(20)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            moved.set()

    def withdrawn_applied() -> None:
        try:
            apply(db, clock, envelope)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    mover = threading.Thread(target=move)
    mover.start()
    assert moved.wait(20)
    worker = threading.Thread(target=withdrawn_applied)
    worker.start()
    # The worker waits for the appointment the uncommitted move holds.
    deadline = time.monotonic() + 20
    waiting = False
    while time.monotonic() < deadline and not waiting:
        with db.transaction() as session:
            waiting = bool(
                session.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    )
                )
            )
        time.sleep(0.05)
    assert waiting
    go.set()
    mover.join(30)
    worker.join(30)
    assert errors == []

    assert [(slot, status) for slot, _, _, status in live(db, withdrawn)] == [
        (first, "rescheduled"),
        (other, "cancelled"),
    ]
    assert request_states(db, withdrawn) == [(0, "cancelled", "csp-toulouse")]
    assert slot_is_free(db, first, clock)
    assert slot_is_free(db, other, clock)
