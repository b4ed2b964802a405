"""What people do to an appointment or a request: read it, accept an offer, cancel,
reschedule, mark the outcome.

Each is scoped (the operator of the incident, the station of the appointment; anything
else is ``NotFound``), audited, and refused with ``Refused`` (409, or 422 for a bad
input) when the record's state does not allow it. A freed slot goes to the queue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal, station_of
from intake_service.appointments import notifications, stations
from intake_service.appointments.booking import (
    _booked,
    _insert_booking,
    book_or_wait,
    fill_from_queue,
)
from intake_service.appointments.policy import BookingPolicy
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    Incident,
    PoliceStation,
)
from intake_service.platform.errors import NotFound, Refused

# The request states: offered (undecided), waiting (no slot fits yet), booked,
# declined (the offer lapsed: the amended sheet says no, or the sheet was withdrawn),
# cancelled.
LIVE_REQUEST_STATES = ("offered", "waiting", "booked")
OUTCOMES = ("honoured", "missed")


# --- reads and changes by people ---------------------------------------------------------------


def _incident_operator_code(session: Session, request: AppointmentRequest) -> str | None:
    incident = session.get(Incident, request.incident_id)
    return incident.operator.code if incident is not None else None


def _may_see(session: Session, principal: Principal, appointment: Appointment) -> bool:
    if station_of(principal) is not None:
        return station_of(principal) == appointment.station_code
    if principal.role == "operator":
        request = session.get(AppointmentRequest, appointment.request_id)
        return request is not None and _incident_operator_code(session, request) == principal.scope
    return False


def get_appointment(
    session: Session, principal: Principal, appointment_id: int, *, lock: bool = False
) -> Appointment:
    """The appointment, for the officers of its station or the operator of its incident."""
    if not stations.valid_id(appointment_id):
        raise NotFound(str(appointment_id))
    if lock:
        session.execute(
            select(Appointment.id).where(Appointment.id == appointment_id).with_for_update()
        )
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or not _may_see(session, principal, appointment):
        raise NotFound(str(appointment_id))
    if lock:
        session.refresh(appointment)
    return appointment


def get_request(
    session: Session, principal: Principal, request_id: int, *, lock: bool = False
) -> AppointmentRequest:
    """The request, for the operator of its incident or the officers of its station."""
    if not stations.valid_id(request_id):
        raise NotFound(str(request_id))
    if lock:
        session.execute(
            select(AppointmentRequest.id)
            .where(AppointmentRequest.id == request_id)
            .with_for_update()
        )
    request = session.get(AppointmentRequest, request_id)
    if request is None:
        raise NotFound(str(request_id))
    if lock:
        session.refresh(request)
    visible = (
        principal.role == "operator"
        and _incident_operator_code(session, request) == principal.scope
    ) or (station_of(principal) is not None and station_of(principal) == request.station_code)
    if not visible:
        raise NotFound(str(request_id))
    return request


def read_appointment(
    session: Session, principal: Principal, appointment_id: int, now: dt.datetime
) -> Appointment:
    """The appointment with the victim's contact: audited."""
    appointment = get_appointment(session, principal, appointment_id)
    audit.record(
        session, principal, "appointment.read", "appointment", str(appointment.id), now=now
    )
    return appointment


def accept_offer(
    session: Session,
    principal: Principal,
    request_id: int,
    now: dt.datetime,
    *,
    policy: BookingPolicy,
) -> AppointmentRequest:
    """The operator accepts an offer for its staff victim: booked now, or waits."""
    request = get_request(session, principal, request_id, lock=True)
    if principal.role != "operator":
        raise NotFound(str(request_id))
    if request.state != "offered":
        raise Refused("state", f"Only an offer can be accepted; this request is {request.state}.")
    incident = session.get(Incident, request.incident_id)
    assert incident is not None
    if incident.status == "withdrawn":
        raise Refused("state", "The incident was withdrawn: its offers have lapsed.")
    request.delay_from = now
    request.book_by = policy.book_by(request.priority, now)
    if request.station_code is None:
        found = stations.competent_station(session, incident.insee_code)
        request.station_code = found.code if found is not None else None
    audit.record(
        session,
        principal,
        "appointment_request.accept",
        "appointment_request",
        str(request.id),
        now=now,
    )
    book_or_wait(session, principal, request, now, policy)
    return request


def cancel(
    session: Session,
    principal: Principal,
    appointment_id: int,
    reason: str,
    now: dt.datetime,
    *,
    policy: BookingPolicy,
) -> Appointment:
    """Cancel a booked appointment; its slot is free at once and offered to the queue."""
    appointment = get_appointment(session, principal, appointment_id, lock=True)
    if appointment.status != "booked":
        raise Refused("status", f"The appointment is {appointment.status}, not booked.")
    cancel_booked(session, principal, appointment, reason, now, policy)
    fill_from_queue(session, appointment.station_code, now, policy=policy)
    return appointment


def cancel_booked(
    session: Session,
    principal: Principal,
    appointment: Appointment,
    reason: str,
    now: dt.datetime,
    policy: BookingPolicy,
    *,
    detail: dict[str, Any] | None = None,
) -> None:
    """End a booked appointment (locked by the caller) and its request: audited, and the
    victim and the operator's referent emailed. The caller gives the slot to the queue."""
    appointment.status = "cancelled"
    appointment.ended_at = now
    appointment.end_reason = reason
    request = session.get(AppointmentRequest, appointment.request_id)
    assert request is not None
    request.state = "cancelled"
    request.updated_at = now
    session.flush()
    audit.record(
        session,
        principal,
        "appointment.cancel",
        "appointment",
        str(appointment.id),
        now=now,
        detail={"slot_id": appointment.slot_id, **(detail or {})},
    )
    notifications.appointment_notice(
        session,
        appointment.id,
        "cancelled",
        now,
        overrides=policy.email_overrides,
        mail_from=policy.mail_from,
    )


def reschedule(
    session: Session,
    principal: Principal,
    appointment_id: int,
    slot_id: int,
    reason: str,
    now: dt.datetime,
    *,
    policy: BookingPolicy,
) -> Appointment:
    """Move a booked appointment to ``slot_id`` (its station, or another of the same
    police service); the old one becomes ``rescheduled``, its slot goes to the queue."""
    appointment = get_appointment(session, principal, appointment_id, lock=True)
    if appointment.status != "booked":
        raise Refused("status", f"The appointment is {appointment.status}, not booked.")
    session.execute(select(ComplaintSlot.id).where(ComplaintSlot.id == slot_id).with_for_update())
    slot = session.get(ComplaintSlot, slot_id)
    # Missing, or at another service's station: one answer, so that slot ids cannot be
    # probed for what exists elsewhere.
    out_of_reach = Refused(
        "slot_id", "No such slot at the stations of this police service.", conflict=False
    )
    if slot is None:
        raise out_of_reach
    if slot.station_code != appointment.station_code:
        current = session.get(PoliceStation, appointment.station_code)
        other = session.get(PoliceStation, slot.station_code)
        if (
            current is None
            or other is None
            or current.service_code is None
            or current.service_code != other.service_code
        ):
            raise out_of_reach
    if slot.id == appointment.slot_id:
        raise Refused("slot_id", "The appointment already holds this slot.", conflict=False)
    if slot.closed_at is not None:
        raise Refused("slot_id", "The slot is closed.")
    if slot.starts_at <= now:
        raise Refused("slot_id", "The slot has already started.")
    old_station = appointment.station_code
    appointment.status = "rescheduled"
    appointment.ended_at = now
    appointment.end_reason = reason
    session.flush()
    request = session.get(AppointmentRequest, appointment.request_id)
    assert request is not None
    moved = _insert_booking(session, request, slot, now, principal.actor)
    if moved is None:
        raise Refused("slot_id", "Another appointment holds this slot.")
    audit.record(
        session,
        principal,
        "appointment.move",
        "appointment",
        str(appointment.id),
        now=now,
        detail={"to": moved.id},
    )
    _booked(session, principal, request, moved, slot, now, "rescheduled", policy)
    fill_from_queue(session, old_station, now, policy=policy)
    return moved


def mark_outcome(
    session: Session, principal: Principal, appointment_id: int, outcome: str, now: dt.datetime
) -> Appointment:
    """The station says whether the victim came (``honoured``) or not (``missed``)."""
    if outcome not in OUTCOMES:
        raise Refused("outcome", f"One of {', '.join(OUTCOMES)}.", conflict=False)
    appointment = get_appointment(session, principal, appointment_id, lock=True)
    if station_of(principal) != appointment.station_code:
        raise NotFound(str(appointment_id))
    if appointment.status != "booked":
        raise Refused("status", f"The appointment is {appointment.status}, not booked.")
    slot = session.get(ComplaintSlot, appointment.slot_id)
    assert slot is not None
    if slot.starts_at > now:
        raise Refused("outcome", "The appointment has not started yet.")
    appointment.status = outcome
    appointment.ended_at = now
    session.flush()
    audit.record(
        session, principal, f"appointment.{outcome}", "appointment", str(appointment.id), now=now
    )
    return appointment
