"""No slot is ever given twice: 100 bookings race for 10 slots on real PostgreSQL, and the
database itself refuses a second live appointment on a slot (appointments.md)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake_service.appointments import booking, incident_events
from intake_service.models import Appointment, AppointmentRequest, ComplaintSlot, EmailMessage
from intake_service.platform.db import Database
from tests.conftest import Clock
from tests.integration.appointments.test_booking import MONDAY, POLICY, open_slots, setup, submit

ATTEMPTS = 100
SLOTS = 10
# Connections of the racing threads (PostgreSQL allows 100 in all, shared with other tests).
CONNECTIONS = 40


def _unlocked_free_slot(
    session: Session, station_code: str, now: Any, deadline: Any, exclude: set[int]
) -> ComplaintSlot | None:
    """The earliest free slot without any lock: every racer goes for the same one."""
    return session.scalar(booking.free_slots_query(station_code, now, deadline, exclude).limit(1))


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("locking", [True, False], ids=["skip-locked", "index-alone"])
def test_a_hundred_bookings_race_for_ten_slots(
    pg_app: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch, locking: bool
) -> None:
    """With the row locks, racers take different slots; without them (a code path that
    forgot to lock), the unique index alone still refuses every second booking, and the
    loser tries the next slot."""
    if not locking:
        monkeypatch.setattr(booking, "_free_slot", _unlocked_free_slot)
    db: Database = pg_app.extensions["intake.db"]
    headers = setup(db, clock)
    # Ten reserved slots on Monday morning, within the P1 delay, and ordinary ones beside.
    reserved = open_slots(db, clock, MONDAY, hours={0: [("08:00", "18:00")]}, share=0.5)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).where(ComplaintSlot.reserved)) == SLOTS
    incident_ids = [submit(pg_app, headers, f"RACE-{n:03d}") for n in range(ATTEMPTS)]

    racing = Database(db.url, pool_size=CONNECTIONS, max_overflow=0, pool_timeout=120)
    barrier = threading.Barrier(ATTEMPTS)

    def attempt(incident_id: str) -> str:
        barrier.wait()
        with racing.transaction() as session:
            [request] = incident_events.book_for_incident(
                session, incident_id, clock.now, policy=POLICY
            )
            return request.state

    try:
        with ThreadPoolExecutor(ATTEMPTS) as pool:
            outcomes = Counter(pool.map(attempt, incident_ids))
    finally:
        racing.dispose()

    assert outcomes == {"booked": SLOTS, "waiting": ATTEMPTS - SLOTS}
    with db.engine.connect() as connection:
        held_twice = connection.execute(
            text(
                "SELECT slot_id, count(*) FROM appointments WHERE status = 'booked' "
                "GROUP BY slot_id HAVING count(*) > 1"
            )
        ).all()
        assert held_twice == []
        booked_slots = connection.execute(
            text(
                "SELECT a.slot_id, s.reserved FROM appointments a "
                "JOIN complaint_slots s ON s.id = a.slot_id WHERE a.status = 'booked'"
            )
        ).all()
        assert len(booked_slots) == SLOTS
        assert all(is_reserved for _, is_reserved in booked_slots)
        assert {slot_id for slot_id, _ in booked_slots} <= set(reserved)
        states: dict[str, int] = dict(
            connection.execute(
                text("SELECT state, count(*) FROM appointment_requests GROUP BY state")
            ).all()
        )
        assert states == {"booked": SLOTS, "waiting": ATTEMPTS - SLOTS}
        # One request per incident, one appointment per booked request.
        per_request = connection.execute(
            text("SELECT request_id FROM appointments GROUP BY request_id HAVING count(*) > 1")
        ).all()
        assert per_request == []
    with db.transaction() as session:
        alerts = session.scalar(select(func.count()).where(EmailMessage.kind == "waiting_alert"))
        assert alerts == ATTEMPTS - SLOTS


def test_the_database_refuses_a_second_booked_appointment_on_a_slot(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    open_slots(db, clock, MONDAY, hours={0: [("09:00", "09:30")]})
    first = submit(app, headers, "RAW-1")
    second = submit(app, headers, "RAW-2")
    with db.transaction() as session:
        incident_events.book_for_incident(session, first, clock.now, policy=POLICY)
        incident_events.book_for_incident(session, second, clock.now, policy=POLICY)
    with db.transaction() as session:
        held = session.scalars(select(Appointment)).one()
        waiting = session.scalars(
            select(AppointmentRequest).where(AppointmentRequest.state == "waiting")
        ).one()
        row = {
            "request_id": waiting.id,
            "slot_id": held.slot_id,
            "station_code": held.station_code,
            "booked_at": clock.now,
            "booked_by": "raw insert",
            "ended_at": None,
            "end_reason": None,
        }

    # Bypassing the code entirely: a second booked appointment on the held slot.
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(insert(Appointment), [{**row, "status": "booked"}])
    # An ended appointment on the same slot is allowed (history), and once the live
    # one is cancelled a new booking may take the slot.
    with db.transaction() as session:
        session.execute(insert(Appointment), [{**row, "status": "cancelled"}])
    with db.transaction() as session:
        session.get(Appointment, held.id).status = "cancelled"  # type: ignore[union-attr]
        session.flush()
        session.execute(insert(Appointment), [{**row, "status": "booked"}])
