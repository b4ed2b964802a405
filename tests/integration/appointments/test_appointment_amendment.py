"""An amended incident carries its offers and waiting requests along (appointments.md), on
SQLite and PostgreSQL: its new priority (hence deadline) and its competent station.

Sheets are posted and amended over HTTP; the ``incident.amended`` event is applied as the
appointments worker applies it (``apply_once`` with its handler), with the test's clock.
The reference instant is Saturday 14 March 2026, 18:30 in Toulouse: a P1/P2 request must
be booked by Monday 16 March 18:30, a P3/P4 one by Friday 20 March 18:30 (5 working days).
csp-toulouse covers Toulouse (31555), csp-colomiers Colomiers (31149); no station covers
Tournefeuille (31557).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from intake_service.appointments import booking, changes, slots
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    AuditEntry,
    EmailMessage,
    OutboxEvent,
)
from intake_service.platform.db import Database
from tests.conftest import Clock
from tests.factories import a_sheet
from tests.integration.appointments.test_booking import (
    MONDAY,
    OPERATOR,
    POLICY,
    TUESDAY,
    book,
    live,
    open_slots,
    paris,
    setup,
    victim,
)
from workers.appointments import booking_handler
from workers.consumer import apply_once

WEDNESDAY, FRIDAY = dt.date(2026, 3, 18), dt.date(2026, 3, 20)
NEXT_WEDNESDAY = dt.date(2026, 3, 25)
TOULOUSE, COLOMIERS, TOURNEFEUILLE = "31555", "31149", "31557"
POINTS = {
    TOULOUSE: (43.6045, 1.4440),
    COLOMIERS: (43.6112, 1.3351),
    TOURNEFEUILLE: (43.5853, 1.3450),
}
# One slot, at 10:00, on the Monday or the Tuesday a test opens.
AT_TEN = {0: [("10:00", "10:30")], 1: [("10:00", "10:30")]}


def submit(
    app: Any,
    headers: dict[str, dict[str, str]],
    reference: str,
    *,
    state: str = "in_progress",
    insee_code: str | None = None,
    victims: list[dict[str, Any]] | None = None,
) -> str:
    """A sheet in Toulouse (its stop and point), or at a point of ``insee_code``.
    ``in_progress`` is P1 (an assault going on), ``over`` P3 (a staff victim)."""
    sheet = a_sheet(reference, state=state)
    if insee_code is None:
        sheet["location"]["insee_code"] = TOULOUSE
    else:
        sheet["location"] = {"mode": 3, "place": "surroundings", **point_in(insee_code)}
    if victims is not None:
        sheet["victims"] = victims
    response = app.test_client().post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 201, response.get_json()["errors"]
    incident_id: str = response.get_json()["id"]
    return incident_id


def point_in(insee_code: str) -> dict[str, Any]:
    """A place in the commune: its code and a point in it (an assault in progress needs one)."""
    lat, lon = POINTS[insee_code]
    return {
        "insee_code": insee_code,
        "coordinates": {"lat": lat, "lon": lon, "accuracy_m": 50, "source": "gps"},
    }


def moved_to(insee_code: str) -> dict[str, Any]:
    """The merge patch that moves the sheet's place to a point of the commune (no stop)."""
    return {"location": {"stop_id": None, **point_in(insee_code)}}


def amend(
    app: Any, headers: dict[str, dict[str, str]], incident_id: str, patch: dict[str, Any]
) -> dict[str, Any]:
    response = app.test_client().post(
        f"/api/v1/incidents/{incident_id}/amendments", json=patch, headers=headers["operator"]
    )
    assert response.status_code == 200, response.get_json()["errors"]
    return dict(response.get_json())


def amended_event(db: Database, incident_id: str) -> dict[str, Any]:
    """The envelope of the incident's latest ``incident.amended`` event."""
    with db.transaction() as session:
        envelope: dict[str, Any] = session.scalars(
            select(OutboxEvent.envelope)
            .where(
                OutboxEvent.incident_id == incident_id,
                OutboxEvent.event_type == "incident.amended",
            )
            .order_by(OutboxEvent.position.desc())
            .limit(1)
        ).one()
        return envelope


def apply(db: Database, clock: Clock, envelope: dict[str, Any]) -> bool:
    return apply_once(db, "appointments", envelope, booking_handler(POLICY, clock), clock.now)


def requests(db: Database, incident_id: str) -> list[tuple[str, str | None, str, dt.datetime]]:
    """(state, station, priority, book_by) of the incident's requests, by victim."""
    with db.transaction() as session:
        rows = session.execute(
            select(
                AppointmentRequest.state,
                AppointmentRequest.station_code,
                AppointmentRequest.priority,
                AppointmentRequest.book_by,
            )
            .where(AppointmentRequest.incident_id == incident_id)
            .order_by(AppointmentRequest.victim_index)
        ).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]


def delays_from(db: Database, incident_id: str) -> list[dt.datetime | None]:
    """Where each of the incident's requests' delay started, by victim."""
    with db.transaction() as session:
        return list(
            session.scalars(
                select(AppointmentRequest.delay_from)
                .where(AppointmentRequest.incident_id == incident_id)
                .order_by(AppointmentRequest.victim_index)
            )
        )


def forget_delay_start(db: Database, incident_id: str) -> None:
    """As a request made before the start was stored (migration 0010) has it."""
    with db.transaction() as session:
        session.execute(
            update(AppointmentRequest)
            .where(AppointmentRequest.incident_id == incident_id)
            .values(delay_from=None)
        )


def reprioritise(
    app: Any, db: Database, clock: Clock, headers: dict[str, dict[str, str]], incident_id: str
) -> Callable[[str], str]:
    """Amend the sheet's state (``in_progress`` P1, ``over`` P3) and apply the event."""

    def amended(state: str) -> str:
        priority: str = amend(app, headers, incident_id, {"state": state})["priority"]
        assert apply(db, clock, amended_event(db, incident_id)) is True
        return priority

    return amended


def updates(db: Database) -> list[dict[str, Any]]:
    """The detail of every ``appointment_request.update`` audit entry, in order."""
    with db.transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry.detail)
                .where(AuditEntry.action == "appointment_request.update")
                .order_by(AuditEntry.id)
            )
        )


def emails(db: Database) -> list[tuple[str, str, str]]:
    """(kind, subject, body) of every email written, in order."""
    with db.transaction() as session:
        rows = session.execute(
            select(EmailMessage.kind, EmailMessage.subject, EmailMessage.body).order_by(
                EmailMessage.id
            )
        ).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]


def queue(db: Database, station_code: str) -> list[str]:
    """The incident ids of the station's waiting requests, in queue order."""
    with db.transaction() as session:
        return list(
            session.scalars(
                select(AppointmentRequest.incident_id)
                .where(
                    AppointmentRequest.station_code == station_code,
                    AppointmentRequest.state == "waiting",
                )
                .order_by(AppointmentRequest.created_at, AppointmentRequest.id)
            )
        )


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


# --- priority ---------------------------------------------------------------------------------


def test_a_raised_priority_tightens_the_deadline_of_a_waiting_request(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    incident_id = submit(app, headers, "RAISE-1", state="over")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]  # no slot at all
    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P3", paris(FRIDAY, 18, 30))]

    clock.advance(hours=1)
    assert amend(app, headers, incident_id, {"state": "in_progress"})["priority"] == "P1"
    assert apply(db, clock, amended_event(db, incident_id)) is True

    # The delay still runs from the reception, now the P1 one.
    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P1", paris(MONDAY, 18, 30))]
    [detail] = updates(db)
    assert detail == {
        "incident_id": incident_id,
        "version": 2,
        "priority": {"from": "P3", "to": "P1"},
        "book_by": {"from": iso(paris(FRIDAY, 18, 30)), "to": iso(paris(MONDAY, 18, 30))},
    }
    # Tried at once (nothing fits), then the station learns the new priority and deadline.
    first, second = [body for kind, _, body in emails(db) if kind == "waiting_alert"]
    assert "Priorité de l'incident : P3" in first
    assert "Priorité de l'incident : P1" in second
    assert "lundi 16 mars 2026 à 18 h 30" in second
    # A slot within the new deadline opens: the queue takes it.
    open_slots(db, clock, MONDAY, hours=AT_TEN)
    assert [(start, status) for _, _, start, status in live(db, incident_id)] == [
        (paris(MONDAY, 10), "booked")
    ]


def test_a_raised_priority_is_booked_at_once_where_a_slot_fits_the_new_deadline(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    colomiers_monday = open_slots(db, clock, MONDAY, hours=AT_TEN, station="csp-colomiers")
    incident_id = submit(app, headers, "RAISE-2", state="over")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]  # nothing in Toulouse

    clock.advance(hours=1)
    amend(app, headers, incident_id, {"state": "in_progress", **moved_to(COLOMIERS)})
    apply(db, clock, amended_event(db, incident_id))

    assert requests(db, incident_id) == [("booked", "csp-colomiers", "P1", paris(MONDAY, 18, 30))]
    assert [(slot, station) for slot, station, _, _ in live(db, incident_id)] == [
        (colomiers_monday[0], "csp-colomiers")
    ]
    [detail] = updates(db)
    assert detail["priority"] == {"from": "P3", "to": "P1"}
    assert detail["station"] == {"from": "csp-toulouse", "to": "csp-colomiers"}
    assert [kind for kind, _, _ in emails(db)] == ["waiting_alert", "booked"]


def test_a_lowered_priority_lengthens_the_deadline_and_books_a_slot_that_now_fits(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    [tuesday] = open_slots(db, clock, TUESDAY, hours=AT_TEN)  # after the P1 delay
    incident_id = submit(app, headers, "LOWER-1")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]

    clock.advance(hours=1)
    assert amend(app, headers, incident_id, {"state": "over"})["priority"] == "P3"
    apply(db, clock, amended_event(db, incident_id))

    assert requests(db, incident_id) == [("booked", "csp-toulouse", "P3", paris(FRIDAY, 18, 30))]
    assert [slot for slot, _, _, _ in live(db, incident_id)] == [tuesday]


def test_a_priority_with_the_same_delay_keeps_the_deadline_and_alerts_nobody(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    incident_id = submit(app, headers, "SAME-DELAY-1")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]

    clock.advance(hours=1)
    assert amend(app, headers, incident_id, {"state": "just_happened"})["priority"] == "P2"
    apply(db, clock, amended_event(db, incident_id))

    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P2", paris(MONDAY, 18, 30))]
    assert [detail["priority"] for detail in updates(db)] == [{"from": "P1", "to": "P2"}]
    assert "book_by" not in updates(db)[0]
    assert [kind for kind, _, _ in emails(db)] == ["waiting_alert"]


def test_an_offer_takes_the_new_priority_which_its_acceptance_then_uses(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    incident_id = submit(
        app,
        headers,
        "OFFER-RAISE-1",
        state="over",
        victims=[victim(wants_to_file_complaint="undecided")],
    )
    assert book(db, incident_id, clock.now) == [(0, "offered")]
    clock.advance(hours=1)
    amend(app, headers, incident_id, {"state": "in_progress"})
    apply(db, clock, amended_event(db, incident_id))
    assert requests(db, incident_id) == [("offered", "csp-toulouse", "P1", paris(MONDAY, 18, 30))]
    assert emails(db) == []  # an offer waits for the operator, not for a slot

    clock.advance(hours=1)
    with db.transaction() as session:
        request_id = session.scalars(select(AppointmentRequest.id)).one()
        accepted = changes.accept_offer(session, OPERATOR, request_id, clock.now, policy=POLICY)
        # The P1 delay, from the acceptance (P3 would give Friday).
        assert accepted.book_by == clock.now + dt.timedelta(days=2)


def test_an_accepted_offer_keeps_its_delay_running_from_the_acceptance(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    incident_id = submit(
        app, headers, "OFFER-LOWER-1", victims=[victim(wants_to_file_complaint="undecided")]
    )
    book(db, incident_id, clock.now)
    clock.advance(hours=2)  # accepted on Saturday at 20:30; no slot: it waits
    with db.transaction() as session:
        request_id = session.scalars(select(AppointmentRequest.id)).one()
        changes.accept_offer(session, OPERATOR, request_id, clock.now, policy=POLICY)
    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P1", paris(MONDAY, 20, 30))]

    clock.advance(hours=1)
    amend(app, headers, incident_id, {"state": "over"})
    apply(db, clock, amended_event(db, incident_id))
    # Five working days from the acceptance, not from the reception (18:30).
    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P3", paris(FRIDAY, 20, 30))]

    # Raised again: still from the acceptance, the deadline it had at P1.
    clock.advance(hours=1)
    amend(app, headers, incident_id, {"state": "in_progress"})
    apply(db, clock, amended_event(db, incident_id))
    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P1", paris(MONDAY, 20, 30))]


def test_a_priority_raised_then_lowered_gives_back_the_deadline_of_a_request_from_the_sheet(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    received_at = clock.now
    incident_id = submit(app, headers, "TOGGLE-SHEET-1", state="over")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]
    assert delays_from(db, incident_id) == [received_at]
    amended = reprioritise(app, db, clock, headers, incident_id)

    for _ in range(2):  # toggled twice: nothing creeps
        clock.advance(days=1)
        assert amended("in_progress") == "P1"
        assert requests(db, incident_id) == [
            ("waiting", "csp-toulouse", "P1", paris(MONDAY, 18, 30))
        ]
        clock.advance(hours=1)
        assert amended("over") == "P3"
        assert requests(db, incident_id) == [
            ("waiting", "csp-toulouse", "P3", paris(FRIDAY, 18, 30))
        ]
    assert delays_from(db, incident_id) == [received_at]


def test_a_priority_raised_then_lowered_gives_back_the_deadline_of_an_accepted_offer(
    app: Any, db: Database, clock: Clock
) -> None:
    """Accepted on Wednesday at P3 (next Wednesday), raised on Friday (P1: Friday, two
    days after the acceptance), lowered the same Friday: next Wednesday again, not five
    working days from the Friday."""
    headers = setup(db, clock)
    incident_id = submit(
        app,
        headers,
        "TOGGLE-OFFER-1",
        state="over",
        victims=[victim(wants_to_file_complaint="undecided")],
    )
    assert book(db, incident_id, clock.now) == [(0, "offered")]
    clock.now = paris(WEDNESDAY, 10)
    with db.transaction() as session:
        request_id = session.scalars(select(AppointmentRequest.id)).one()
        changes.accept_offer(session, OPERATOR, request_id, clock.now, policy=POLICY)
    assert requests(db, incident_id) == [
        ("waiting", "csp-toulouse", "P3", paris(NEXT_WEDNESDAY, 10))
    ]
    assert delays_from(db, incident_id) == [paris(WEDNESDAY, 10)]
    amended = reprioritise(app, db, clock, headers, incident_id)

    clock.now = paris(FRIDAY, 9)
    assert amended("in_progress") == "P1"
    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P1", paris(FRIDAY, 10))]
    for hour in (11, 12):
        clock.now = paris(FRIDAY, hour)
        assert amended("over") == "P3"
        assert requests(db, incident_id) == [
            ("waiting", "csp-toulouse", "P3", paris(NEXT_WEDNESDAY, 10))
        ]
        clock.advance(minutes=30)
        assert amended("in_progress") == "P1"
        assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P1", paris(FRIDAY, 10))]
    assert [detail["book_by"] for detail in updates(db)] == [
        {"from": iso(paris(NEXT_WEDNESDAY, 10)), "to": iso(paris(FRIDAY, 10))},
        {"from": iso(paris(FRIDAY, 10)), "to": iso(paris(NEXT_WEDNESDAY, 10))},
    ] * 2 + [{"from": iso(paris(NEXT_WEDNESDAY, 10)), "to": iso(paris(FRIDAY, 10))}]


def test_a_priority_raised_then_lowered_gives_back_the_deadline_of_a_later_yes(
    app: Any, db: Database, clock: Clock
) -> None:
    """A victim who says yes in an amended sheet: the delay runs from that amendment,
    whatever the priority does next."""
    headers = setup(db, clock)
    incident_id = submit(
        app,
        headers,
        "TOGGLE-YES-1",
        state="over",
        victims=[victim(wants_to_file_complaint="undecided")],
    )
    assert book(db, incident_id, clock.now) == [(0, "offered")]
    clock.now = paris(WEDNESDAY, 10)
    amend(app, headers, incident_id, {"victims": [victim()]})
    assert apply(db, clock, amended_event(db, incident_id)) is True
    assert requests(db, incident_id) == [
        ("waiting", "csp-toulouse", "P3", paris(NEXT_WEDNESDAY, 10))
    ]
    assert delays_from(db, incident_id) == [paris(WEDNESDAY, 10)]
    amended = reprioritise(app, db, clock, headers, incident_id)

    clock.now = paris(FRIDAY, 9)
    assert amended("in_progress") == "P1"
    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P1", paris(FRIDAY, 10))]
    clock.advance(hours=1)
    assert amended("over") == "P3"
    assert requests(db, incident_id) == [
        ("waiting", "csp-toulouse", "P3", paris(NEXT_WEDNESDAY, 10))
    ]


def test_a_request_made_before_its_start_was_stored_infers_it_from_its_deadline(
    app: Any, db: Database, clock: Clock
) -> None:
    """``delay_from`` null (migration 0010 leaves old rows so): a P1/P2 deadline gives
    its start exactly; a P3/P4 one that is not the reception's counts from the
    amendment, never giving more time than before."""
    headers = setup(db, clock)
    incident_id = submit(
        app, headers, "LEGACY-1", victims=[victim(wants_to_file_complaint="undecided")]
    )
    book(db, incident_id, clock.now)
    clock.advance(hours=2)  # accepted on Saturday at 20:30
    with db.transaction() as session:
        request_id = session.scalars(select(AppointmentRequest.id)).one()
        changes.accept_offer(session, OPERATOR, request_id, clock.now, policy=POLICY)
    forget_delay_start(db, incident_id)
    amended = reprioritise(app, db, clock, headers, incident_id)

    clock.advance(hours=1)
    assert amended("over") == "P3"
    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P3", paris(FRIDAY, 20, 30))]
    clock.advance(hours=1)
    assert amended("in_progress") == "P1"
    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P1", paris(MONDAY, 22, 30))]
    assert delays_from(db, incident_id) == [None]


# --- station ----------------------------------------------------------------------------------


def test_a_place_in_another_stations_area_moves_the_request_to_its_queue_at_its_place(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    moved = submit(app, headers, "PLACE-1")
    clock.advance(minutes=1)
    already_there = submit(app, headers, "PLACE-2", insee_code=COLOMIERS)
    assert book(db, moved, clock.now) == [(0, "waiting")]
    clock.advance(minutes=1)
    assert book(db, already_there, clock.now) == [(0, "waiting")]
    assert queue(db, "csp-toulouse") == [moved]
    assert queue(db, "csp-colomiers") == [already_there]

    clock.advance(hours=1)
    assert amend(app, headers, moved, moved_to(COLOMIERS))["insee_code"] == COLOMIERS
    apply(db, clock, amended_event(db, moved))

    # Out of Toulouse's queue, into Colomiers' ahead of the later request.
    assert queue(db, "csp-toulouse") == []
    assert queue(db, "csp-colomiers") == [moved, already_there]
    [detail] = updates(db)
    assert detail == {
        "incident_id": moved,
        "version": 2,
        "station": {"from": "csp-toulouse", "to": "csp-colomiers"},
    }
    # Colomiers is told it has a request waiting (Toulouse was told at the start).
    subjects = [subject for kind, subject, _ in emails(db) if kind == "waiting_alert"]
    assert len(subjects) == 3
    assert "Colomiers" in subjects[-1]

    # A slot opens in Colomiers: the moved request, the earlier one, takes it.
    [slot] = open_slots(db, clock, MONDAY, hours=AT_TEN, station="csp-colomiers")
    assert [(s, station) for s, station, _, _ in live(db, moved)] == [(slot, "csp-colomiers")]
    assert queue(db, "csp-colomiers") == [already_there]


def test_a_place_in_another_stations_area_books_there_when_a_slot_is_free(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    [colomiers] = open_slots(db, clock, MONDAY, hours=AT_TEN, station="csp-colomiers")
    incident_id = submit(app, headers, "PLACE-3")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]

    clock.advance(hours=1)
    amend(app, headers, incident_id, moved_to(COLOMIERS))
    apply(db, clock, amended_event(db, incident_id))

    assert requests(db, incident_id) == [("booked", "csp-colomiers", "P1", paris(MONDAY, 18, 30))]
    assert [(slot, status) for slot, _, _, status in live(db, incident_id)] == [
        (colomiers, "booked")
    ]
    assert queue(db, "csp-toulouse") == []
    assert [kind for kind, _, _ in emails(db)] == ["waiting_alert", "booked"]


def test_a_request_with_no_station_gets_one_when_the_place_moves_to_a_covered_commune(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    [slot] = open_slots(db, clock, MONDAY, hours=AT_TEN)
    incident_id = submit(
        app,
        headers,
        "NOSTATION-2",
        insee_code=TOURNEFEUILLE,
        victims=[victim(), victim(wants_to_file_complaint="undecided")],
    )
    assert book(db, incident_id, clock.now) == [(0, "waiting"), (1, "offered")]
    assert [station for _, station, _, _ in requests(db, incident_id)] == [None, None]

    clock.advance(hours=1)
    amend(app, headers, incident_id, moved_to(TOULOUSE))
    apply(db, clock, amended_event(db, incident_id))

    assert [(state, station) for state, station, _, _ in requests(db, incident_id)] == [
        ("booked", "csp-toulouse"),
        ("offered", "csp-toulouse"),
    ]
    assert [s for s, _, _, _ in live(db, incident_id)] == [slot]
    assert [detail["station"] for detail in updates(db)] == [
        {"from": None, "to": "csp-toulouse"},
        {"from": None, "to": "csp-toulouse"},
    ]


def test_a_place_no_station_covers_leaves_the_request_at_its_station(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    incident_id = submit(app, headers, "UNCOVERED-1")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]

    amend(app, headers, incident_id, moved_to(TOURNEFEUILLE))
    apply(db, clock, amended_event(db, incident_id))

    assert requests(db, incident_id) == [("waiting", "csp-toulouse", "P1", paris(MONDAY, 18, 30))]
    assert updates(db) == []


# --- what an amendment leaves alone -----------------------------------------------------------


def test_a_booked_appointment_is_untouched_by_an_amendment(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    open_slots(db, clock, MONDAY, hours=AT_TEN)
    open_slots(db, clock, MONDAY, hours=AT_TEN, station="csp-colomiers")
    incident_id = submit(app, headers, "BOOKED-1")
    assert book(db, incident_id, clock.now) == [(0, "booked")]
    before = (requests(db, incident_id), live(db, incident_id), emails(db))

    clock.advance(hours=1)
    amend(app, headers, incident_id, {"state": "over", **moved_to(COLOMIERS)})
    apply(db, clock, amended_event(db, incident_id))

    # Same priority, deadline, station and appointment; nobody emailed; nothing audited.
    assert (requests(db, incident_id), live(db, incident_id), emails(db)) == before
    assert updates(db) == []


def test_replaying_the_amended_event_changes_nothing_more(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    incident_id = submit(
        app,
        headers,
        "REPLAY-1",
        state="over",
        victims=[victim(), victim(wants_to_file_complaint="undecided")],
    )
    assert book(db, incident_id, clock.now) == [(0, "waiting"), (1, "offered")]
    clock.advance(hours=1)
    amend(app, headers, incident_id, {"state": "in_progress", **moved_to(COLOMIERS)})
    envelope = amended_event(db, incident_id)
    assert apply(db, clock, envelope) is True
    after = (requests(db, incident_id), updates(db), emails(db))
    assert [(state, station, priority) for state, station, priority, _ in after[0]] == [
        ("waiting", "csp-colomiers", "P1"),
        ("offered", "csp-colomiers", "P1"),
    ]
    assert len(after[1]) == 2

    # Delivered again (not applied), then applied by hand, later: nothing changes.
    assert apply(db, clock, envelope) is False
    clock.advance(minutes=5)
    assert book(db, incident_id, clock.now) == [(0, "waiting"), (1, "offered")]
    assert (requests(db, incident_id), updates(db), emails(db)) == after
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_victim_who_says_yes_again_takes_the_current_priority_and_station(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    incident_id = submit(
        app,
        headers,
        "AGAIN-YES-1",
        state="over",
        victims=[victim(wants_to_file_complaint="undecided")],
    )
    assert book(db, incident_id, clock.now) == [(0, "offered")]
    amend(app, headers, incident_id, {"victims": [victim(wants_to_file_complaint="no")]})
    assert book(db, incident_id, clock.now) == [(0, "declined")]

    clock.advance(hours=1)
    amend(
        app,
        headers,
        incident_id,
        {"state": "in_progress", "victims": [victim()], **moved_to(COLOMIERS)},
    )
    apply(db, clock, amended_event(db, incident_id))
    # The delay runs from the amendment that says yes, with the sheet's priority now.
    assert requests(db, incident_id) == [
        ("waiting", "csp-colomiers", "P1", clock.now + dt.timedelta(days=2))
    ]
    [detail] = updates(db)
    assert detail["priority"] == {"from": "P3", "to": "P1"}
    assert detail["station"] == {"from": "csp-toulouse", "to": "csp-colomiers"}


@pytest.mark.postgres
def test_a_slot_opening_while_the_request_moves_books_it_once(pg_app: Any, clock: Clock) -> None:
    """A slot opens in Toulouse (the queue books the waiting request, uncommitted) while
    the worker applies an amendment that moves it to Colomiers, where a slot is free:
    the worker waits for the request's lock, then finds it booked and leaves it."""
    db: Database = pg_app.extensions["intake.db"]
    headers = setup(db, clock)
    [colomiers] = open_slots(db, clock, MONDAY, hours=AT_TEN, station="csp-colomiers")
    incident_id = submit(pg_app, headers, "RACE-MOVE-1")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]
    clock.advance(hours=1)
    amend(pg_app, headers, incident_id, moved_to(COLOMIERS))
    envelope = amended_event(db, incident_id)

    opened, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def open_toulouse_slot() -> None:
        try:
            with db.transaction() as session:
                slots.create_slot(
                    session,
                    "csp-toulouse",
                    paris(MONDAY, 9),
                    paris(MONDAY, 9, 30),
                    reserved=True,
                    now=clock.now,
                    policy=POLICY,
                )
                opened.set()
                assert go.wait(20)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            opened.set()

    def amendment_applied() -> None:
        try:
            apply(db, clock, envelope)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    opener = threading.Thread(target=open_toulouse_slot)
    opener.start()
    assert opened.wait(20)
    worker = threading.Thread(target=amendment_applied)
    worker.start()
    # The worker waits for the request the uncommitted booking holds.
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
    opener.join(30)
    worker.join(30)
    assert errors == []

    assert [(station, status) for _, station, _, status in live(db, incident_id)] == [
        ("csp-toulouse", "booked")
    ]
    assert requests(db, incident_id) == [("booked", "csp-toulouse", "P1", paris(MONDAY, 18, 30))]
    assert updates(db) == []
    with db.transaction() as session:
        free = session.scalars(
            booking.free_slots_query("csp-colomiers", clock.now, None, set())
        ).all()
        assert [slot.id for slot in free] == [colomiers]
