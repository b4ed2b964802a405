"""Booking priority complaint appointments, on SQLite and PostgreSQL (appointments.md).

Sheets are posted over HTTP; the booking runs as the appointments worker runs it
(``incident_events.book_for_incident`` in one transaction), with the test's clock.
The reference instant is Saturday 14 March 2026, 18:30 in Toulouse: a P1 sheet
must be booked by Monday 16 March 18:30.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from intake_service.access.rules.permissions import Principal
from intake_service.appointments import incident_events, policy, queries, stations
from intake_service.appointments.changes import accept_offer, cancel, mark_outcome, reschedule
from intake_service.appointments.slots import close_slot, create_slot, generate_slots
from intake_service.feed.topology import connect, internal_queue
from intake_service.models import (
    AppliedEvent,
    Appointment,
    AppointmentRequest,
    AuditEntry,
    ComplaintSlot,
    EmailMessage,
    OutboxEvent,
    PoliceStation,
)
from intake_service.platform.clock import PARIS
from intake_service.platform.db import Database
from intake_service.platform.errors import NotFound, Refused
from tests.appointment_data import add_slot
from tests.brokers import broker_url, drop_namespace, fresh_namespace
from tests.conftest import Clock
from tests.factories import BASE_SHEET, a_sheet, create_tokens
from workers.appointments import AppointmentWorker, booking_handler
from workers.consumer import apply_once
from workers.relay import Relay
from workers.runner import run_workers

STATIONS_CSV = (
    "code,name,address,lat,lon,service_code,communes,referent_email\n"
    "csp-toulouse,Commissariat central de Toulouse,"
    '"23 boulevard de l\'Embouchure, 31200 Toulouse",43.6157,1.4279,ddsp-31,31555;31069,'
    "accueil.csp-toulouse@interieur.example\n"
    'csp-colomiers,Commissariat de Colomiers,"1 allée du Rouergue, 31770 Colomiers",'
    "43.6112,1.3351,ddsp-31,31149,\n"
)
OPERATOR = Principal(role="operator", scope="tisseo", actor="test:operator")
OTHER_OPERATOR = Principal(role="operator", scope="mistral", actor="test:mistral")
OFFICER = Principal(role="station_officer", scope="csp-toulouse", actor="test:officer")
OTHER_OFFICER = Principal(role="station_officer", scope="csp-colomiers", actor="test:colomiers")
MONDAY = dt.date(2026, 3, 16)
TUESDAY = dt.date(2026, 3, 17)
MORNING = {0: [("09:00", "12:00")], 1: [("09:00", "12:00")]}
STAFF_VICTIM: dict[str, Any] = copy.deepcopy(BASE_SHEET["victims"][0])
# The default delays and the packaged email texts (no deployment overrides).
POLICY = policy.BookingPolicy()


def paris(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS).astimezone(dt.UTC)


def import_demo_stations(db: Database, now: dt.datetime) -> None:
    with db.transaction() as session:
        stations.import_stations(session, stations.parse_stations(STATIONS_CSV), now)


def setup(db: Database, clock: Clock, *, with_stations: bool = True) -> dict[str, dict[str, str]]:
    headers = create_tokens(db, clock.now)
    if with_stations:
        import_demo_stations(db, clock.now)
    return headers


def victim(**changes: Any) -> dict[str, Any]:
    made = copy.deepcopy(STAFF_VICTIM)
    made.update(changes)
    return made


def submit(
    app: Any,
    headers: dict[str, dict[str, str]],
    reference: str,
    victims: list[dict[str, Any]] | None = None,
) -> str:
    sheet = a_sheet(reference)
    sheet["location"]["insee_code"] = "31555"
    if victims is not None:
        sheet["victims"] = victims
    response = app.test_client().post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 201, response.get_json()
    incident_id: str = response.get_json()["id"]
    return incident_id


def open_slots(
    db: Database,
    clock: Clock,
    day: dt.date,
    *,
    share: float = 1.0,
    hours: dict[int, list[tuple[str, str]]] | None = None,
    station: str = "csp-toulouse",
) -> list[int]:
    with db.transaction() as session:
        created = generate_slots(
            session, station, day, day, hours or MORNING, 30, share, clock.now, policy=POLICY
        )
        return [slot.id for slot in created]


def book(db: Database, incident_id: str, now: dt.datetime) -> list[tuple[int, str]]:
    with db.transaction() as session:
        found = incident_events.book_for_incident(session, incident_id, now, policy=POLICY)
        return [(request.victim_index, request.state) for request in found]


def live(db: Database, incident_id: str) -> list[tuple[int, str, dt.datetime, str]]:
    """(slot id, station, slot start, status) of the incident's appointments."""
    with db.transaction() as session:
        rows = session.execute(
            select(Appointment.slot_id, Appointment.station_code, ComplaintSlot.starts_at)
            .add_columns(Appointment.status)
            .join(ComplaintSlot, ComplaintSlot.id == Appointment.slot_id)
            .join(AppointmentRequest, AppointmentRequest.id == Appointment.request_id)
            .where(AppointmentRequest.incident_id == incident_id)
            .order_by(Appointment.id)
        ).all()
        return [tuple(row) for row in rows]


def emails(db: Database, kind: str) -> list[EmailMessage]:
    with db.transaction() as session:
        return list(session.scalars(select(EmailMessage).where(EmailMessage.kind == kind)))


def request_states(db: Database, incident_id: str) -> list[tuple[int, str, str | None]]:
    with db.transaction() as session:
        rows = session.execute(
            select(
                AppointmentRequest.victim_index,
                AppointmentRequest.state,
                AppointmentRequest.station_code,
            )
            .where(AppointmentRequest.incident_id == incident_id)
            .order_by(AppointmentRequest.victim_index)
        ).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]


# --- booking ----------------------------------------------------------------------------------


def test_an_assaulted_driver_is_booked_at_the_competent_station_within_the_delay(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    open_slots(db, clock, MONDAY, share=0.5)
    open_slots(db, clock, MONDAY, station="csp-colomiers")  # not competent for 31555
    incident_id = submit(app, headers, "BOOK-1")

    assert book(db, incident_id, clock.now) == [(0, "booked")]

    [(slot_id, station, starts_at, status)] = live(db, incident_id)
    assert (station, status) == ("csp-toulouse", "booked")
    # The earliest reserved slot: with half reserved, the second of the morning.
    assert starts_at == paris(MONDAY, 9, 30)
    with db.transaction() as session:
        slot = session.get(ComplaintSlot, slot_id)
        assert slot is not None
        assert slot.reserved
        request = session.scalars(select(AppointmentRequest)).one()
        assert request.book_by == paris(MONDAY, 18, 30)
        assert starts_at <= request.book_by
        assert (
            session.scalar(select(func.count()).where(AuditEntry.action == "appointment.book")) == 1
        )
    [notice] = emails(db, "booked")
    assert notice.ics
    assert "BEGIN:VCALENDAR" in notice.ics


def test_no_slot_within_the_delay_waits_and_alerts_the_station(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    open_slots(db, clock, TUESDAY)  # after the P1 delay (Monday 18:30)
    incident_id = submit(app, headers, "WAIT-1")

    assert book(db, incident_id, clock.now) == [(0, "waiting")]
    assert live(db, incident_id) == []
    [alert] = emails(db, "waiting_alert")
    assert alert.recipients == ["accueil.csp-toulouse@interieur.example"]
    with db.transaction() as session:
        queue = queries.station_queue(session, OFFICER, "csp-toulouse")
        assert [request.incident_id for request in queue] == [incident_id]

    # A slot opens within the delay: the queue takes it at once.
    with db.transaction() as session:
        create_slot(
            session,
            "csp-toulouse",
            paris(MONDAY, 14),
            paris(MONDAY, 14, 30),
            reserved=True,
            now=clock.now,
            policy=POLICY,
        )
    assert [(start, status) for _, _, start, status in live(db, incident_id)] == [
        (paris(MONDAY, 14), "booked")
    ]
    assert request_states(db, incident_id) == [(0, "booked", "csp-toulouse")]


def test_reprocessing_the_same_event_books_nothing_more(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    open_slots(db, clock, MONDAY)
    incident_id = submit(app, headers, "AGAIN-1")
    with db.transaction() as session:
        envelope = session.scalars(
            select(OutboxEvent.envelope).where(OutboxEvent.incident_id == incident_id)
        ).one()
    handler = booking_handler(POLICY, clock)

    assert apply_once(db, "appointments", envelope, handler, clock.now) is True
    # The same event delivered again (consumer killed before its ack): not applied.
    assert apply_once(db, "appointments", envelope, handler, clock.now) is False
    # Even applied again by hand, and later: the request is found, nothing more booked.
    clock.advance(minutes=5)
    assert book(db, incident_id, clock.now) == [(0, "booked")]
    assert book(db, incident_id, clock.now) == [(0, "booked")]

    assert len(live(db, incident_id)) == 1
    assert len(emails(db, "booked")) == 1
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AppointmentRequest)) == 1
        assert session.scalar(select(func.count()).select_from(AppliedEvent)) == 1


def test_ineligible_victims_book_nothing(app: Any, db: Database, clock: Clock) -> None:
    headers = setup(db, clock)
    open_slots(db, clock, MONDAY)
    incident_id = submit(
        app,
        headers,
        "NONE-1",
        victims=[
            {"kind": "passenger", "injury": "minor"},
            victim(wants_to_file_complaint="no"),
            victim(consents={"appointment_contact": False}),
            victim(on_duty=False),
        ],
    )
    assert book(db, incident_id, clock.now) == []
    assert request_states(db, incident_id) == []
    assert live(db, incident_id) == []


def test_a_commune_no_station_covers_waits_with_no_station(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock, with_stations=False)
    incident_id = submit(app, headers, "NOSTATION-1")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]
    assert request_states(db, incident_id) == [(0, "waiting", None)]
    assert len(emails(db, "waiting_alert")) == 1

    # A station covering it is imported: the next event of the incident books it.
    import_demo_stations(db, clock.now)
    open_slots(db, clock, MONDAY)
    assert book(db, incident_id, clock.now) == [(0, "booked")]
    assert request_states(db, incident_id) == [(0, "booked", "csp-toulouse")]


def test_importing_a_station_books_the_requests_that_waited_for_one(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock, with_stations=False)
    incident_id = submit(app, headers, "NOSTATION-2")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]
    assert request_states(db, incident_id) == [(0, "waiting", None)]

    import_demo_stations(db, clock.now)
    open_slots(db, clock, MONDAY)  # csp-toulouse's queue is empty: nothing booked yet
    assert request_states(db, incident_id) == [(0, "waiting", None)]
    with db.transaction() as session:
        placed = incident_events.place_requests_without_station(session, clock.now, policy=POLICY)
    assert placed == 1
    assert request_states(db, incident_id) == [(0, "booked", "csp-toulouse")]
    with db.transaction() as session:  # nothing left to place
        assert (
            incident_events.place_requests_without_station(session, clock.now, policy=POLICY) == 0
        )


# --- cancellation, queue, reschedule, outcome -------------------------------------------------


def test_cancellation_frees_the_slot_for_the_earliest_waiting_request(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    with db.transaction() as session:
        only = create_slot(
            session,
            "csp-toulouse",
            paris(MONDAY, 9),
            paris(MONDAY, 9, 30),
            reserved=True,
            now=clock.now,
            policy=POLICY,
        ).id
    first, second, third = (submit(app, headers, f"QUEUE-{n}") for n in (1, 2, 3))
    for incident_id in (first, second, third):
        book(db, incident_id, clock.now)
        clock.advance(minutes=1)
    assert [status for _, _, _, status in live(db, first)] == ["booked"]
    assert request_states(db, second) == [(0, "waiting", "csp-toulouse")]
    assert request_states(db, third) == [(0, "waiting", "csp-toulouse")]

    with db.transaction() as session:
        [appointment] = session.scalars(select(Appointment)).all()
        with pytest.raises(NotFound):
            cancel(session, OTHER_OFFICER, appointment.id, "x", clock.now, policy=POLICY)
        with pytest.raises(NotFound):
            cancel(session, OTHER_OPERATOR, appointment.id, "x", clock.now, policy=POLICY)
        cancel(session, OFFICER, appointment.id, "Agent en arrêt.", clock.now, policy=POLICY)

    assert [status for _, _, _, status in live(db, first)] == ["cancelled"]
    assert request_states(db, first) == [(0, "cancelled", "csp-toulouse")]
    # The earliest waiting request got the freed slot, the later one still waits.
    assert [(slot, status) for slot, _, _, status in live(db, second)] == [(only, "booked")]
    assert request_states(db, third) == [(0, "waiting", "csp-toulouse")]
    assert len(emails(db, "cancelled")) == 1
    assert len(emails(db, "booked")) == 2

    with db.transaction() as session:
        appointment_id = session.scalar(
            select(Appointment.id).where(Appointment.status == "cancelled")
        )
        assert appointment_id is not None
        with pytest.raises(Refused):
            cancel(session, OPERATOR, appointment_id, "again", clock.now, policy=POLICY)


def test_reschedule_moves_the_appointment_and_gives_the_old_slot_to_the_queue(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    with db.transaction() as session:
        reserved = create_slot(
            session,
            "csp-toulouse",
            paris(MONDAY, 9),
            paris(MONDAY, 9, 30),
            reserved=True,
            now=clock.now,
            policy=POLICY,
        ).id
        ordinary = create_slot(
            session,
            "csp-toulouse",
            paris(TUESDAY, 10),
            paris(TUESDAY, 10, 30),
            reserved=False,
            now=clock.now,
            policy=POLICY,
        ).id
        elsewhere = create_slot(
            session,
            "csp-colomiers",
            paris(TUESDAY, 11),
            paris(TUESDAY, 11, 30),
            reserved=False,
            now=clock.now,
            policy=POLICY,
        ).id
    moved, waiting = submit(app, headers, "MOVE-1"), submit(app, headers, "MOVE-2")
    book(db, moved, clock.now)
    clock.advance(minutes=1)
    book(db, waiting, clock.now)
    assert request_states(db, waiting) == [(0, "waiting", "csp-toulouse")]

    with db.transaction() as session:
        [appointment] = session.scalars(select(Appointment)).all()
        with pytest.raises(Refused) as taken:
            reschedule(session, OPERATOR, appointment.id, reserved, "x", clock.now, policy=POLICY)
        assert taken.value.field == "slot_id"
    with db.transaction() as session:
        new = reschedule(
            session,
            OPERATOR,
            appointment.id,
            ordinary,
            "Horaires de service.",
            clock.now,
            policy=POLICY,
        )
        assert new.id != appointment.id

    assert [(slot, status) for slot, _, _, status in live(db, moved)] == [
        (reserved, "rescheduled"),
        (ordinary, "booked"),
    ]
    assert [(slot, status) for slot, _, _, status in live(db, waiting)] == [(reserved, "booked")]
    assert len(emails(db, "rescheduled")) == 1

    # Another station of the same police service (ddsp-31) is allowed.
    with db.transaction() as session:
        again = reschedule(
            session, OFFICER, new.id, elsewhere, "Plus près du domicile.", clock.now, policy=POLICY
        )
        assert again.station_code == "csp-colomiers"
    assert request_states(db, moved) == [(0, "booked", "csp-colomiers")]

    # Another service's slot answers as a missing one: no oracle of what exists there.
    with db.transaction() as session:
        session.add(
            PoliceStation(
                code="csp-marseille",
                name="Commissariat de Marseille",
                address="2 rue Antoine Becker, 13002 Marseille",
                service_code="ddsp-13",
                created_at=clock.now,
            )
        )
    foreign = add_slot(db, "csp-marseille", paris(TUESDAY, 14), reserved=False)
    refusals = []
    for slot_id in (foreign, foreign + 1000):
        with db.transaction() as session, pytest.raises(Refused) as refused:
            reschedule(session, OPERATOR, again.id, slot_id, "x", clock.now, policy=POLICY)
        refusals.append((refused.value.field, refused.value.message, refused.value.conflict))
    assert refusals[0] == refusals[1]


def test_the_station_records_whether_the_victim_came(app: Any, db: Database, clock: Clock) -> None:
    headers = setup(db, clock)
    open_slots(db, clock, MONDAY)
    incident_id = submit(app, headers, "OUTCOME-1")
    book(db, incident_id, clock.now)
    with db.transaction() as session:
        appointment_id = session.scalars(select(Appointment.id)).one()
        with pytest.raises(Refused):
            mark_outcome(session, OFFICER, appointment_id, "honoured", clock.now)
        with pytest.raises(NotFound):
            mark_outcome(session, OPERATOR, appointment_id, "honoured", clock.now)
    clock.now = paris(MONDAY, 10)
    with db.transaction() as session:
        done = mark_outcome(session, OFFICER, appointment_id, "honoured", clock.now)
        assert done.status == "honoured"


def test_a_closed_slot_is_not_booked(app: Any, db: Database, clock: Clock) -> None:
    headers = setup(db, clock)
    slot_ids = open_slots(db, clock, MONDAY, hours={0: [("09:00", "10:00")]})
    with db.transaction() as session:
        for slot_id in slot_ids:
            close_slot(session, OFFICER, slot_id, clock.now)
    incident_id = submit(app, headers, "CLOSED-1")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]


def test_a_priority_request_takes_the_earliest_slot_even_released(
    app: Any, db: Database, clock: Clock
) -> None:
    """The probe: a P1 booked on Friday while Thursday's released slots were free."""
    headers = setup(db, clock)
    slot_ids = open_slots(db, clock, MONDAY, hours={0: [("09:00", "10:00")]})
    with db.transaction() as session:
        earliest = session.get(ComplaintSlot, slot_ids[0])
        assert earliest is not None
        earliest.released_at = clock.now
    incident_id = submit(app, headers, "RELEASED-1")
    assert book(db, incident_id, clock.now) == [(0, "booked")]
    with db.transaction() as session:
        assert session.scalars(select(Appointment.slot_id)).one() == slot_ids[0]


# --- offers and amendments --------------------------------------------------------------------


def test_an_undecided_victim_gets_an_offer_the_operator_accepts(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    open_slots(db, clock, MONDAY)
    incident_id = submit(app, headers, "OFFER-1", [victim(wants_to_file_complaint="undecided")])
    assert book(db, incident_id, clock.now) == [(0, "offered")]
    assert live(db, incident_id) == []

    with db.transaction() as session:
        request_id = session.scalars(select(AppointmentRequest.id)).one()
        with pytest.raises(NotFound):
            accept_offer(session, OTHER_OPERATOR, request_id, clock.now, policy=POLICY)
    clock.advance(hours=2)
    with db.transaction() as session:
        accepted = accept_offer(session, OPERATOR, request_id, clock.now, policy=POLICY)
        assert accepted.state == "booked"
        # The delay runs from the acceptance.
        assert accepted.book_by == clock.now + dt.timedelta(days=2)
    assert [status for _, _, _, status in live(db, incident_id)] == ["booked"]
    with db.transaction() as session, pytest.raises(Refused):
        accept_offer(session, OPERATOR, request_id, clock.now, policy=POLICY)


def test_an_amended_sheet_books_a_victim_who_now_says_yes_and_keeps_bookings(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    open_slots(db, clock, MONDAY)
    incident_id = submit(
        app, headers, "AMEND-1", [victim(), victim(wants_to_file_complaint="undecided")]
    )
    assert book(db, incident_id, clock.now) == [(0, "booked"), (1, "offered")]
    before = live(db, incident_id)

    clock.advance(minutes=10)
    response = app.test_client().post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json={"victims": [victim(), victim(wants_to_file_complaint="yes")]},
        headers=headers["operator"],
    )
    assert response.status_code == 200, response.get_json()
    assert book(db, incident_id, clock.now) == [(0, "booked"), (1, "booked")]
    after = live(db, incident_id)
    assert after[0] == before[0]
    assert len(after) == 2
    assert after[1][0] != after[0][0]


def test_a_waiting_victim_who_now_says_no_leaves_the_queue(
    app: Any, db: Database, clock: Clock
) -> None:
    headers = setup(db, clock)
    incident_id = submit(app, headers, "AMEND-NO-1")
    assert book(db, incident_id, clock.now) == [(0, "waiting")]
    response = app.test_client().post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json={"victims": [victim(wants_to_file_complaint="no")]},
        headers=headers["operator"],
    )
    assert response.status_code == 200, response.get_json()
    assert book(db, incident_id, clock.now) == [(0, "declined")]
    open_slots(db, clock, MONDAY)  # a slot opens: nobody is booked into it
    assert live(db, incident_id) == []


# --- the API ----------------------------------------------------------------------------------


def test_api_slots_queue_appointments_and_offers(app: Any, db: Database, clock: Clock) -> None:
    headers = setup(db, clock)
    client = app.test_client()
    officer = headers["station_officer"]

    response = client.post(
        "/api/v1/stations/csp-toulouse/slots",
        json={
            "start_date": "2026-03-16",
            "end_date": "2026-03-16",
            "weekly_hours": [{"weekday": 0, "start": "09:00", "end": "10:00"}],
            "slot_minutes": 30,
            "reserved_share": 1,
        },
        headers=officer,
    )
    assert response.status_code == 201, response.get_json()
    slots = response.get_json()["items"]
    assert [slot["starts_at"] for slot in slots] == [
        "2026-03-16T08:00:00+00:00",
        "2026-03-16T08:30:00+00:00",
    ]
    listed = client.get(
        "/api/v1/stations/csp-toulouse/slots?from=2026-03-16&to=2026-03-16", headers=officer
    )
    assert [slot["id"] for slot in listed.get_json()["items"]] == [s["id"] for s in slots]

    incident_id = submit(
        app, headers, "API-1", [victim(), victim(wants_to_file_complaint="undecided")]
    )
    book(db, incident_id, clock.now)
    seen = client.get(f"/api/v1/incidents/{incident_id}/appointments", headers=headers["operator"])
    assert seen.status_code == 200
    document = seen.get_json()
    assert [(d["outcome"], d["reason"]) for d in document["decisions"]] == [
        ("book", "eligible"),
        ("offer", "undecided"),
    ]
    booked, offered = document["requests"]
    assert booked["state"] == "booked"
    assert offered["state"] == "offered"
    appointment_id = booked["appointments"][0]["id"]

    one = client.get(f"/api/v1/appointments/{appointment_id}", headers=officer)
    assert one.status_code == 200
    assert one.get_json()["victim"]["name"] == "Agent Fictif"
    assert (
        client.get(
            f"/api/v1/appointments/{appointment_id}", headers=headers["other_operator"]
        ).status_code
        == 404
    )

    accepted = client.post(
        f"/api/v1/appointment-requests/{offered['id']}/accept", headers=headers["operator"]
    )
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["state"] == "booked"
    again = client.post(
        f"/api/v1/appointment-requests/{offered['id']}/accept", headers=headers["operator"]
    )
    assert again.status_code == 409
    assert again.get_json()["errors"] == [{"field": "state", "message": again.get_json()["detail"]}]

    listed = client.get(
        "/api/v1/stations/csp-toulouse/appointments?from=2026-03-16&to=2026-03-16",
        headers=officer,
    )
    assert [item["status"] for item in listed.get_json()["items"]] == ["booked", "booked"]
    assert "victim" not in listed.get_json()["items"][0]

    full = client.post(f"/api/v1/slots/{slots[0]['id']}/close", headers=officer)
    assert full.status_code == 409

    cancelled = client.post(
        f"/api/v1/appointments/{appointment_id}/cancel",
        json={"reason": "La victime a déjà porté plainte."},
        headers=headers["operator"],
    )
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    waiting = client.get("/api/v1/stations/csp-toulouse/waiting", headers=officer)
    assert waiting.get_json() == {"items": []}


def test_api_errors_name_the_fields(app: Any, db: Database, clock: Clock) -> None:
    headers = setup(db, clock)
    client = app.test_client()
    officer = headers["station_officer"]

    response = client.post(
        "/api/v1/stations/csp-toulouse/slots",
        json={
            "start_date": "2026-03-16",
            "weekly_hours": [{"weekday": 7, "start": "9h", "end": "10:00"}],
            "slot_minutes": 30,
            "reserved_share": 2,
        },
        headers=officer,
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert {"weekly_hours.0.weekday", "weekly_hours.0.start", "reserved_share"} <= fields

    holiday = client.post(
        "/api/v1/stations/csp-toulouse/slots",
        json={
            "starts_at": "2026-05-01T09:00:00+02:00",
            "ends_at": "2026-05-01T09:30:00+02:00",
            "reserved": True,
        },
        headers=officer,
    )
    assert holiday.status_code == 422
    assert holiday.get_json()["errors"][0]["field"] == "starts_at"

    both = client.post(
        "/api/v1/stations/csp-toulouse/slots",
        json={"starts_at": "2026-03-16T09:00:00+01:00", "slot_minutes": 30},
        headers=officer,
    )
    assert both.status_code == 422

    assert client.get("/api/v1/stations/csp-colomiers/slots", headers=officer).status_code == 404
    assert (
        client.get("/api/v1/stations/csp-toulouse/slots", headers=headers["operator"]).status_code
        == 403
    )
    assert client.post("/api/v1/slots/999/close", headers=officer).status_code == 404
    bad = client.post("/api/v1/appointments/1/reschedule", json={"slot_id": "1"}, headers=officer)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"slot_id", "reason"}


# --- the worker, on a real broker -------------------------------------------------------------


@pytest.mark.broker
def test_the_worker_books_from_the_published_event(
    app: Any, db: Database, clock: Clock, config: Any
) -> None:
    url = broker_url("redis")
    namespace = fresh_namespace()
    settings = config.with_overrides({"broker_url": url, "broker_namespace": namespace})
    headers = setup(db, clock)
    open_slots(db, clock, MONDAY)
    # The queue exists before the relay publishes (as the deployment's workers declare it).
    with connect(url) as connection:
        internal_queue("appointments", namespace)(connection.default_channel).declare()
    incident_id = submit(app, headers, "WORKER-1")

    stop = threading.Event()
    workers = [
        Relay(db, url, namespace=namespace, clock=clock, poll_seconds=0.1),
        AppointmentWorker(settings, db, clock=clock),
    ]
    thread = threading.Thread(target=run_workers, args=(workers, stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not live(db, incident_id):
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=30)
        drop_namespace(url, namespace)
    assert [status for _, _, _, status in live(db, incident_id)] == ["booked"]
