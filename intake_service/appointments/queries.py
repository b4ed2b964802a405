"""What the pages and the API list: a station's appointments, queue and slots, an
incident's requests and a request's appointments; scoped to the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal
from intake_service.appointments import stations
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    Incident,
)

# --- lists -------------------------------------------------------------------------------------


def station_appointments(
    session: Session,
    principal: Principal,
    station_code: str,
    since: dt.datetime,
    until: dt.datetime,
    statuses: Sequence[str] = (),
) -> list[tuple[Appointment, ComplaintSlot, AppointmentRequest]]:
    stations.get_station(session, principal, station_code)
    statement = (
        select(Appointment, ComplaintSlot, AppointmentRequest)
        .join(ComplaintSlot, ComplaintSlot.id == Appointment.slot_id)
        .join(AppointmentRequest, AppointmentRequest.id == Appointment.request_id)
        .where(
            Appointment.station_code == station_code,
            ComplaintSlot.starts_at >= since,
            ComplaintSlot.starts_at < until,
        )
        .order_by(ComplaintSlot.starts_at, Appointment.id)
    )
    if statuses:
        statement = statement.where(Appointment.status.in_(statuses))
    return [(a, s, r) for a, s, r in session.execute(statement).all()]


def station_queue(
    session: Session, principal: Principal, station_code: str
) -> list[AppointmentRequest]:
    """The station's waiting requests, earliest first."""
    stations.get_station(session, principal, station_code)
    return list(
        session.scalars(
            select(AppointmentRequest)
            .where(
                AppointmentRequest.station_code == station_code,
                AppointmentRequest.state == "waiting",
            )
            .order_by(AppointmentRequest.created_at, AppointmentRequest.id)
        )
    )


def station_slots(
    session: Session,
    principal: Principal,
    station_code: str,
    since: dt.datetime,
    until: dt.datetime,
) -> list[tuple[ComplaintSlot, int | None]]:
    """The station's slots in a time range, each with the id of its booked appointment."""
    stations.get_station(session, principal, station_code)
    rows = session.execute(
        select(ComplaintSlot, Appointment.id)
        .outerjoin(
            Appointment,
            (Appointment.slot_id == ComplaintSlot.id) & (Appointment.status == "booked"),
        )
        .where(
            ComplaintSlot.station_code == station_code,
            ComplaintSlot.starts_at >= since,
            ComplaintSlot.starts_at < until,
        )
        .order_by(ComplaintSlot.starts_at, ComplaintSlot.id)
    ).all()
    return [(slot, appointment_id) for slot, appointment_id in rows]


def incident_requests(
    session: Session, principal: Principal, incident: Incident
) -> list[tuple[AppointmentRequest, list[tuple[Appointment, ComplaintSlot]]]]:
    """The requests of an incident (the caller's access to it checked before), each with
    its appointments, oldest first."""
    requests = session.scalars(
        select(AppointmentRequest)
        .where(AppointmentRequest.incident_id == incident.id)
        .order_by(AppointmentRequest.victim_index)
    ).all()
    return [(request, request_appointments(session, request)) for request in requests]


def request_appointments(
    session: Session, request: AppointmentRequest
) -> list[tuple[Appointment, ComplaintSlot]]:
    """The request's appointments (live and ended), oldest first, with their slots."""
    held = session.execute(
        select(Appointment, ComplaintSlot)
        .join(ComplaintSlot, ComplaintSlot.id == Appointment.slot_id)
        .where(Appointment.request_id == request.id)
        .order_by(Appointment.id)
    ).all()
    return [(appointment, slot) for appointment, slot in held]
