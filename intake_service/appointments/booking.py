"""Booking a priority complaint appointment: the free slot, the booking, the waiting
queue.

No slot is ever given twice. The database guarantees it: the partial unique index
``uq_appointments_live_slot`` admits one ``booked`` appointment per slot. The code
picks a free slot with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL) so that
concurrent bookings take different slots instead of colliding; when an insert still
hits the index (a slot booked by a transaction that committed after this one
looked), the insert is undone in its SAVEPOINT and the next slot is tried.

A booking takes the earliest reserved slot (not closed; released or not) of the
competent station starting at least ``MIN_LEAD`` from now and before the request's
``book_by``. A released slot is still free until something books it: a priority request
must not wait for Friday while Thursday's released slots are free (issue 17). A station
that gives a released slot to an ordinary complaint closes it here. When none fits,
the request ``waits`` and the station is alerted; the queue is served earliest request
first whenever a slot opens (created, or freed by a cancellation or a move), then with
the earliest slot even past the delay: late is better than never.

Use cases take the caller's session and never commit. Those that may write an email
take the ``BookingPolicy`` the entry point built from its ``Config`` (``policy_of``):
it says where the deployment's email texts are.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.appointments import notifications
from intake_service.appointments.policy import MIN_LEAD, WORKER, BookingPolicy
from intake_service.appointments.rules import eligibility
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    Incident,
)

# --- slots and bookings ----------------------------------------------------------------------


def free_slots_query(
    station_code: str, now: dt.datetime, deadline: dt.datetime | None, exclude: set[int]
) -> Select[ComplaintSlot]:
    """The free reserved slots, released or not, a booking may take, earliest first (not
    locked)."""
    booked = exists().where(Appointment.slot_id == ComplaintSlot.id, Appointment.status == "booked")
    statement = select(ComplaintSlot).where(
        ComplaintSlot.station_code == station_code,
        ComplaintSlot.reserved.is_(True),
        ComplaintSlot.closed_at.is_(None),
        ComplaintSlot.starts_at >= now + MIN_LEAD,
        ~booked,
    )
    if deadline is not None:
        statement = statement.where(ComplaintSlot.starts_at <= deadline)
    if exclude:
        statement = statement.where(ComplaintSlot.id.not_in(exclude))
    return statement.order_by(ComplaintSlot.starts_at, ComplaintSlot.id)


def _free_slot(
    session: Session,
    station_code: str,
    now: dt.datetime,
    deadline: dt.datetime | None,
    exclude: set[int],
) -> ComplaintSlot | None:
    """The earliest free reserved slot (released or not), locked (skipping those other
    bookings hold)."""
    statement = free_slots_query(station_code, now, deadline, exclude)
    return session.scalar(statement.limit(1).with_for_update(skip_locked=True, of=ComplaintSlot))


def _insert_booking(
    session: Session, request: AppointmentRequest, slot: ComplaintSlot, now: dt.datetime, by: str
) -> Appointment | None:
    """Insert the appointment in a SAVEPOINT; None when the database says the slot is held."""
    try:
        with session.begin_nested():
            appointment = Appointment(
                request_id=request.id,
                slot_id=slot.id,
                station_code=slot.station_code,
                status="booked",
                booked_at=now,
                booked_by=by[:200],
            )
            session.add(appointment)
            session.flush()
    except IntegrityError:
        return None
    return appointment


def _booked(
    session: Session,
    principal: Principal,
    request: AppointmentRequest,
    appointment: Appointment,
    slot: ComplaintSlot,
    now: dt.datetime,
    kind: str,
    policy: BookingPolicy,
) -> None:
    request.state = "booked"
    request.station_code = slot.station_code
    request.updated_at = now
    session.flush()
    audit.record(
        session,
        principal,
        f"appointment.{'book' if kind == 'booked' else 'reschedule'}",
        "appointment",
        str(appointment.id),
        now=now,
        detail={"request_id": request.id, "slot_id": slot.id, "station": slot.station_code},
    )
    notifications.appointment_notice(
        session,
        appointment.id,
        kind,
        now,
        overrides=policy.email_overrides,
        public_url=policy.public_url,
        mail_from=policy.mail_from,
    )


def book(
    session: Session,
    principal: Principal,
    request: AppointmentRequest,
    now: dt.datetime,
    deadline: dt.datetime | None,
    policy: BookingPolicy,
) -> Appointment | None:
    """Book the earliest free slot of the request's station before ``deadline``, or None."""
    if request.station_code is None:
        return None
    tried: set[int] = set()
    while True:
        slot = _free_slot(session, request.station_code, now, deadline, tried)
        if slot is None:
            return None
        appointment = _insert_booking(session, request, slot, now, principal.actor)
        if appointment is None:
            # Booked by a transaction that committed after we looked: the next one.
            tried.add(slot.id)
            continue
        _booked(session, principal, request, appointment, slot, now, "booked", policy)
        return appointment


def book_or_wait(
    session: Session,
    principal: Principal,
    request: AppointmentRequest,
    now: dt.datetime,
    policy: BookingPolicy,
) -> Appointment | None:
    """Book within the delay, else the request waits and the station is alerted."""
    appointment = book(session, principal, request, now, request.book_by, policy)
    if appointment is None:
        request.state = "waiting"
        request.updated_at = now
        session.flush()
        audit.record(
            session,
            principal,
            "appointment_request.wait",
            "appointment_request",
            str(request.id),
            now=now,
        )
        notifications.waiting_alert(
            session,
            request.id,
            now,
            overrides=policy.email_overrides,
            public_url=policy.public_url,
        )
    return appointment


def book_by_for(
    request: AppointmentRequest,
    priority: str,
    received_at: dt.datetime,
    now: dt.datetime,
    policy: BookingPolicy,
) -> dt.datetime:
    """The request's deadline under ``priority``, counted from where its delay started
    (``delay_from``: the incident's reception, or when the offer was accepted or the
    victim said yes in an amended sheet), so that a priority raised then lowered gives
    back the deadline it had. P1/P2 share one delay, P3/P4 another: a change within
    one keeps the deadline (and alerts nobody), even if the delay settings changed since.

    A request made before the start was stored (migration 0010) has ``delay_from``
    null; its start is then inferred from its deadline. A P1/P2 delay is calendar
    days: its start is exact. A P3/P4 one is working days, which a weekend blurs: its
    start is the reception when the deadline matches it, else (the victim said yes
    later) the amendment, and a raised priority never gives more time.
    """
    urgent = eligibility.URGENT_PRIORITIES
    if (request.priority in urgent) == (priority in urgent):
        return request.book_by
    if request.delay_from is not None:
        return policy.book_by(priority, request.delay_from)
    if request.priority in urgent:
        return policy.book_by(priority, request.book_by - dt.timedelta(days=policy.urgent_days))
    if request.book_by == policy.book_by(request.priority, received_at):
        return policy.book_by(priority, received_at)
    return min(request.book_by, policy.book_by(priority, now))


def fill_from_queue(
    session: Session,
    station_code: str,
    now: dt.datetime,
    *,
    policy: BookingPolicy,
    principal: Principal = WORKER,
) -> list[Appointment]:
    """Book the station's waiting requests, earliest first, into its free reserved slots
    (the earliest slot, even past a request's delay: late is better than never).

    A request whose incident was withdrawn is skipped: its waiting ends when the
    withdrawal's event is applied (``_undo_withdrawn``), and meanwhile it must not
    take a slot and send the victim a booking."""
    withdrawn = exists().where(
        Incident.id == AppointmentRequest.incident_id, Incident.status == "withdrawn"
    )
    waiting = session.scalars(
        select(AppointmentRequest)
        .where(
            AppointmentRequest.station_code == station_code,
            AppointmentRequest.state == "waiting",
            ~withdrawn,
        )
        .order_by(AppointmentRequest.created_at, AppointmentRequest.id)
        .with_for_update(skip_locked=True)
    ).all()
    booked: list[Appointment] = []
    for request in waiting:
        appointment = book(session, principal, request, now, None, policy)
        if appointment is None:
            break
        booked.append(appointment)
    return booked
