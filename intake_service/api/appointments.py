"""Priority complaint appointments: stations' slots and queues, appointments, offers.

Station officers (token scope = station code) manage their station's slots and see
its appointments and waiting queue; the operator of an incident sees its victims'
requests and appointments, accepts offers, cancels or moves an appointment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

from flask.views import MethodView
from flask_smorest import abort

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.appointments import changes, queries, slots, stations
from intake_service.appointments.rules import eligibility
from intake_service.intake import queries as incident_queries
from intake_service.models import Appointment, AppointmentRequest, ComplaintSlot, Incident
from intake_service.platform.errors import NotFound, Refused
from intake_service.serving.context import booking_policy, database, request_now
from schemas.appointments import (
    AcceptSchema,
    AppointmentArgsSchema,
    AppointmentPageSchema,
    AppointmentSchema,
    IncidentAppointmentsSchema,
    OutcomeSchema,
    RangeArgsSchema,
    ReasonSchema,
    RequestPageSchema,
    RequestSchema,
    RescheduleSchema,
    SlotCloseSchema,
    SlotCreateSchema,
    SlotPageSchema,
    SlotSchema,
)

blp = ApiBlueprint(
    "appointments",
    __name__,
    url_prefix="/api/v1",
    description="Priority complaint appointments: slots, bookings, offers, the waiting queue.",
)

DEFAULT_DAYS = 14


def _range(args: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of a range of Paris days (from today, 14 days, by default)."""
    today = request_now().astimezone(eligibility.PARIS).date()
    first: dt.date = args.get("from_date") or today
    last: dt.date = args.get("to_date") or first + dt.timedelta(days=DEFAULT_DAYS - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=eligibility.PARIS)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=eligibility.PARIS)
    return since.astimezone(dt.UTC), until.astimezone(dt.UTC)


def _not_found(what: str) -> NoReturn:
    abort(404, message=f"No such {what}.")
    raise AssertionError  # unreachable: abort raises


def _refused(exc: Refused | slots.SlotRefused) -> NoReturn:
    abort(
        409 if exc.conflict else 422,
        message=exc.message,
        errors=[{"field": exc.field, "message": exc.message}],
    )
    raise AssertionError  # unreachable: abort raises


def slot_document(slot: ComplaintSlot, appointment_id: int | None) -> dict[str, Any]:
    return {
        "id": slot.id,
        "station_code": slot.station_code,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "reserved": slot.reserved,
        "released_at": slot.released_at,
        "closed_at": slot.closed_at,
        "appointment_id": appointment_id,
    }


def appointment_document(
    appointment: Appointment,
    slot: ComplaintSlot,
    request: AppointmentRequest,
    victim: dict[str, Any] | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": appointment.id,
        "request_id": request.id,
        "incident_id": request.incident_id,
        "victim_index": request.victim_index,
        "priority": request.priority,
        "station_code": appointment.station_code,
        "slot": {"id": slot.id, "starts_at": slot.starts_at, "ends_at": slot.ends_at},
        "status": appointment.status,
        "booked_at": appointment.booked_at,
        "booked_by": appointment.booked_by,
        "ended_at": appointment.ended_at,
        "end_reason": appointment.end_reason,
    }
    if victim is not None:
        document["victim"] = victim
    return document


def request_document(
    request: AppointmentRequest, held: list[tuple[Appointment, ComplaintSlot]] | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": request.id,
        "incident_id": request.incident_id,
        "victim_index": request.victim_index,
        "station_code": request.station_code,
        "priority": request.priority,
        "book_by": request.book_by,
        "state": request.state,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    }
    if held is not None:
        document["appointments"] = [
            appointment_document(appointment, slot, request) for appointment, slot in held
        ]
    return document


def _full_document(session: Any, appointment: Appointment, *, with_victim: bool) -> dict[str, Any]:
    slot = session.get(ComplaintSlot, appointment.slot_id)
    request = session.get(AppointmentRequest, appointment.request_id)
    victim = None
    if with_victim:
        incident = session.get(Incident, request.incident_id)
        victims = (incident.sheet.get("victims") or []) if incident is not None else []
        found = victims[request.victim_index] if request.victim_index < len(victims) else {}
        contact = found.get("contact") or {}
        victim = {
            "name": contact.get("name"),
            "phone": contact.get("phone"),
            "email": contact.get("email"),
            "staff_function": found.get("staff_function"),
        }
    return appointment_document(appointment, slot, request, victim)


# --- station officers ------------------------------------------------------------------------


@blp.route("/stations/<station_code>/slots")
class Slots(MethodView):
    @require("station.manage_slots")
    @blp.arguments(RangeArgsSchema, location="query")
    @blp.response(200, SlotPageSchema)
    def get(self, args: dict[str, Any], station_code: str) -> Any:
        """The station's slots over a range of days (14 days from today by default)"""
        since, until = _range(args)
        try:
            with database().transaction() as session:
                found = queries.station_slots(
                    session, current_principal(), station_code, since, until
                )
                return {"items": [slot_document(slot, held) for slot, held in found]}
        except NotFound:
            _not_found("station")

    @require("station.manage_slots")
    @blp.arguments(SlotCreateSchema)
    @blp.response(201, SlotPageSchema)
    @blp.problem(422, "A slot on a public holiday, in the past, or an invalid range")
    def post(self, body: dict[str, Any], station_code: str) -> Any:
        """Create one slot, or generate slots from weekly opening hours

        Public holidays and past times are skipped; ``reserved_share`` of each
        day's generated slots are reserved for priority appointments, spread out.
        Waiting requests are booked into the new reserved slots at once.
        """
        principal = current_principal()
        try:
            with database().transaction() as session:
                station = stations.get_station(session, principal, station_code)
                if "starts_at" in body:
                    created = [
                        slots.create_slot(
                            session,
                            station.code,
                            body["starts_at"],
                            body["ends_at"],
                            reserved=body["reserved"],
                            now=request_now(),
                            policy=booking_policy(),
                            principal=principal,
                        )
                    ]
                else:
                    hours: dict[int, list[tuple[str, str]]] = {}
                    for opening in body["weekly_hours"]:
                        hours.setdefault(opening["weekday"], []).append(
                            (opening["start"], opening["end"])
                        )
                    created = slots.generate_slots(
                        session,
                        station.code,
                        body["start_date"],
                        body["end_date"],
                        hours,
                        body["slot_minutes"],
                        body["reserved_share"],
                        request_now(),
                        policy=booking_policy(),
                        principal=principal,
                    )
                ids = [slot.id for slot in created]
                held = dict(
                    session.query(Appointment.slot_id, Appointment.id)
                    .filter(Appointment.slot_id.in_(ids), Appointment.status == "booked")
                    .all()
                )
                return {"items": [slot_document(slot, held.get(slot.id)) for slot in created]}
        except NotFound:
            _not_found("station")
        except slots.SlotRefused as exc:
            _refused(exc)


@blp.route("/slots/<int:slot_id>/close")
class SlotClose(MethodView):
    @require("station.manage_slots")
    @blp.arguments(SlotCloseSchema, required=False)
    @blp.response(200, SlotSchema)
    @blp.problem(409, "An appointment holds the slot")
    def post(self, _body: dict[str, Any], slot_id: int) -> Any:
        """Close a slot (no booking will take it); refused while an appointment holds it"""
        try:
            with database().transaction() as session:
                slot = slots.close_slot(session, current_principal(), slot_id, request_now())
                return slot_document(slot, None)
        except NotFound:
            _not_found("slot")
        except slots.SlotRefused as exc:
            _refused(exc)


@blp.route("/stations/<station_code>/appointments")
class StationAppointments(MethodView):
    @require("station.read_appointments")
    @blp.arguments(AppointmentArgsSchema, location="query")
    @blp.response(200, AppointmentPageSchema)
    def get(self, args: dict[str, Any], station_code: str) -> Any:
        """The station's appointments over a range of days (14 from today by default)"""
        since, until = _range(args)
        try:
            with database().transaction() as session:
                found = queries.station_appointments(
                    session,
                    current_principal(),
                    station_code,
                    since,
                    until,
                    args.get("status") or (),
                )
                return {
                    "items": [
                        appointment_document(appointment, slot, request)
                        for appointment, slot, request in found
                    ]
                }
        except NotFound:
            _not_found("station")


@blp.route("/stations/<station_code>/waiting")
class StationQueue(MethodView):
    @require("station.read_appointments")
    @blp.response(200, RequestPageSchema)
    def get(self, station_code: str) -> Any:
        """The station's waiting requests, earliest first (they are booked in this order)"""
        try:
            with database().transaction() as session:
                queue = queries.station_queue(session, current_principal(), station_code)
                return {"items": [request_document(request) for request in queue]}
        except NotFound:
            _not_found("station")


# --- appointments ----------------------------------------------------------------------------


@blp.route("/appointments/<int:appointment_id>")
class AppointmentView(MethodView):
    @require("appointment.read")
    @blp.response(200, AppointmentSchema)
    def get(self, appointment_id: int) -> Any:
        """An appointment, with the victim's contact (the read is audited)"""
        try:
            with database().transaction() as session:
                appointment = changes.read_appointment(
                    session, current_principal(), appointment_id, request_now()
                )
                return _full_document(session, appointment, with_victim=True)
        except NotFound:
            _not_found("appointment")


@blp.route("/appointments/<int:appointment_id>/cancel")
class AppointmentCancel(MethodView):
    @require("appointment.change")
    @blp.arguments(ReasonSchema)
    @blp.response(200, AppointmentSchema)
    @blp.problem(409, "The appointment is not booked")
    def post(self, body: dict[str, Any], appointment_id: int) -> Any:
        """Cancel an appointment; its slot goes to the waiting queue first"""
        try:
            with database().transaction() as session:
                appointment = changes.cancel(
                    session,
                    current_principal(),
                    appointment_id,
                    body["reason"],
                    request_now(),
                    policy=booking_policy(),
                )
                return _full_document(session, appointment, with_victim=False)
        except NotFound:
            _not_found("appointment")
        except Refused as exc:
            _refused(exc)


@blp.route("/appointments/<int:appointment_id>/reschedule")
class AppointmentReschedule(MethodView):
    @require("appointment.change")
    @blp.arguments(RescheduleSchema)
    @blp.response(200, AppointmentSchema)
    @blp.problem(409, "The appointment is not booked, or the slot is taken or closed")
    def post(self, body: dict[str, Any], appointment_id: int) -> Any:
        """Move an appointment to another slot (same station or same police service)

        Answers the new appointment; the old one becomes ``rescheduled``.
        """
        try:
            with database().transaction() as session:
                moved = changes.reschedule(
                    session,
                    current_principal(),
                    appointment_id,
                    body["slot_id"],
                    body["reason"],
                    request_now(),
                    policy=booking_policy(),
                )
                return _full_document(session, moved, with_victim=False)
        except NotFound:
            _not_found("appointment")
        except Refused as exc:
            _refused(exc)


@blp.route("/appointments/<int:appointment_id>/outcome")
class AppointmentOutcome(MethodView):
    @require("appointment.outcome")
    @blp.arguments(OutcomeSchema)
    @blp.response(200, AppointmentSchema)
    @blp.problem(409, "The appointment is not booked or has not started")
    def post(self, body: dict[str, Any], appointment_id: int) -> Any:
        """Say whether the victim came (``honoured``) or not (``missed``)"""
        try:
            with database().transaction() as session:
                appointment = changes.mark_outcome(
                    session, current_principal(), appointment_id, body["outcome"], request_now()
                )
                return _full_document(session, appointment, with_victim=False)
        except NotFound:
            _not_found("appointment")
        except Refused as exc:
            _refused(exc)


# --- the operator's side ---------------------------------------------------------------------


@blp.route("/incidents/<incident_id>/appointments")
class IncidentAppointments(MethodView):
    @require("appointment.read")
    @blp.response(200, IncidentAppointmentsSchema)
    def get(self, incident_id: str) -> Any:
        """The incident's victims: who gets an appointment or an offer, and why; the
        requests and their appointments"""
        try:
            with database().transaction() as session:
                incident = incident_queries.get_incident(session, current_principal(), incident_id)
                found = queries.incident_requests(session, current_principal(), incident)
                return {
                    "incident_id": incident.id,
                    "decisions": [
                        {"victim_index": d.victim_index, "outcome": d.outcome, "reason": d.reason}
                        for d in eligibility.evaluate(incident.sheet)
                    ],
                    "requests": [request_document(request, held) for request, held in found],
                }
        except NotFound:
            _not_found("incident")


@blp.route("/appointment-requests/<int:request_id>/accept")
class OfferAccept(MethodView):
    @require("appointment.accept_offer")
    @blp.arguments(AcceptSchema, required=False)
    @blp.response(200, RequestSchema)
    @blp.problem(409, "The request is not an offer")
    def post(self, _body: dict[str, Any], request_id: int) -> Any:
        """Accept an offer for your staff victim: booked at once, or queued"""
        try:
            with database().transaction() as session:
                request = changes.accept_offer(
                    session, current_principal(), request_id, request_now(), policy=booking_policy()
                )
                held = queries.request_appointments(session, request)
                return request_document(request, held)
        except NotFound:
            _not_found("appointment request")
        except Refused as exc:
            _refused(exc)
