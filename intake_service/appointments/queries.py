"""What the pages and the API list: a station's appointments, queue and slots, an
incident's requests and a request's appointments; scoped to the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal
from intake_service.appointments import stations
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    EmailMessage,
    Incident,
    Operator,
    PoliceStation,
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


@dataclass(frozen=True)
class HeldAppointment:
    """A request's latest appointment, with its slot and station."""

    appointment: Appointment
    slot: ComplaintSlot
    station: PoliceStation


@dataclass(frozen=True)
class OperatorRequest:
    """One line of the operator's follow-up: a request, its incident, its latest appointment."""

    request: AppointmentRequest
    incident: Incident
    held: HeldAppointment | None


def operator_requests(
    session: Session, principal: Principal, limit: int
) -> list[OperatorRequest] | None:
    """The operator's staff victims' requests, newest first, each with its latest
    appointment (two queries, whatever the number); None if the operator is unknown."""
    operator = session.scalar(select(Operator).where(Operator.code == principal.scope))
    if operator is None:
        return None
    found = session.execute(
        select(AppointmentRequest, Incident)
        .join(Incident, Incident.id == AppointmentRequest.incident_id)
        .where(AppointmentRequest.operator_id == operator.id)
        .order_by(AppointmentRequest.created_at.desc(), AppointmentRequest.id.desc())
        .limit(limit)
    ).all()
    latest: dict[int, HeldAppointment] = {}
    if found:
        held = session.execute(
            select(Appointment, ComplaintSlot, PoliceStation)
            .join(ComplaintSlot, ComplaintSlot.id == Appointment.slot_id)
            .join(PoliceStation, PoliceStation.code == Appointment.station_code)
            .where(Appointment.request_id.in_([request.id for request, _ in found]))
            .order_by(Appointment.id.desc())
        )
        for appointment, slot, station in held:
            latest.setdefault(appointment.request_id, HeldAppointment(appointment, slot, station))
    return [
        OperatorRequest(request, incident, latest.get(request.id)) for request, incident in found
    ]


def failed_emails(
    session: Session, station_code: str, limit: int
) -> Sequence[tuple[EmailMessage, str]]:
    """The emails of a station's appointments or requests the mailer gave up on, newest
    first, with their incident's operator reference."""
    return (
        session.execute(
            select(EmailMessage, Incident.operator_reference)
            .outerjoin(Appointment, Appointment.id == EmailMessage.appointment_id)
            .join(AppointmentRequest, AppointmentRequest.id == EmailMessage.request_id)
            .join(Incident, Incident.id == AppointmentRequest.incident_id)
            .where(
                EmailMessage.state == "failed",
                or_(
                    Appointment.station_code == station_code,
                    (EmailMessage.appointment_id.is_(None))
                    & (AppointmentRequest.station_code == station_code),
                ),
            )
            .order_by(EmailMessage.created_at.desc())
            .limit(limit)
        )
        .tuples()
        .all()
    )
