"""Priority complaint appointments: requests, booking, offers, the waiting queue, changes.

One ``AppointmentRequest`` per (incident, victim) that ``eligibility`` says gets a
booking or an offer: re-processing an event finds it and books nothing more.

No slot is ever given twice. The database guarantees it: the partial unique index
``uq_appointments_live_slot`` admits one ``booked`` appointment per slot. The code
picks a free slot with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL) so that
concurrent bookings take different slots instead of colliding; when an insert still
hits the index (a slot booked by a transaction that committed after this one
looked), the insert is undone in its SAVEPOINT and the next slot is tried.

A booking takes the earliest reserved slot (not closed, not released) of the
competent station starting at least ``MIN_LEAD`` from now and before the request's
``book_by``. When none fits, the request ``waits`` and the station is alerted; the
queue is served earliest request first whenever a slot opens (created, or freed by
a cancellation or a move), then with the earliest slot even past the delay: late is
better than never. A request whose incident's commune no station covers waits
with no station (``station_code`` null): an administrator must import a station
covering it (``intake-service stations import``), which then places it
(``place_requests_without_station``).

An amended incident carries its offers and waiting requests along (not its bookings:
a person moves those). They take its new priority, hence a new ``book_by`` counted
from where their delay started, and the station competent for its new place (a
request with no station gets one; a place no station covers leaves it where it is).
A waiting request that moves leaves the old station's queue for the new one at its
place by creation time; one whose station or deadline changed is booked at once if a
slot fits, else it waits and the station is alerted, as a new request. Each change is
audited (``appointment_request.update``, from and to); replaying the event finds
nothing to change.

A withdrawn incident (a sheet sent by mistake) books nothing, and at its next event
(``incident.withdrawn``) what it holds is undone: offers lapse, waiting requests leave
the queue, coming appointments are cancelled as a person cancels them (audited, the
victim and the referent emailed) and their slots go to the queue. Appointments that
have started are left to the station, which marks them honoured or missed.

Use cases take the caller's session and never commit. Those that may write an email
take the ``BookingPolicy`` the entry point built from its ``Config`` (``policy_of``):
it says where the deployment's email texts are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake_service import audit, eligibility, notifications, stations
from intake_service.access import Principal, station_of
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    Incident,
    PoliceStation,
)

# A booking never starts sooner than this: the victim must be told and get there.
MIN_LEAD = dt.timedelta(hours=1)
WORKER = Principal(role="system", scope="*", actor="worker:appointments")
# The request states: offered (undecided), waiting (no slot fits yet), booked,
# declined (the offer lapsed: the amended sheet says no, or the sheet was withdrawn),
# cancelled.
LIVE_REQUEST_STATES = ("offered", "waiting", "booked")
OUTCOMES = ("honoured", "missed")
# The reason the victim's and the referent's emails give when a withdrawal cancels
# an appointment (they read French). The operator's own words for the withdrawal
# are written for the command centre and are not passed on.
WITHDRAWAL_REASON = "La fiche d'incident a été retirée par l'exploitant."


class NotFound(LookupError):
    """Absent, or outside the caller's scope (answered 404)."""


class Refused(Exception):
    """A change the record's state does not allow (409), or a bad input (422)."""

    def __init__(self, field: str, message: str, *, conflict: bool = True) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.conflict = conflict


@dataclass(frozen=True)
class BookingPolicy:
    """What the booking use cases take from ``Config``: the delays (settings
    ``appointment_urgent_days``/``appointment_working_days``) and the folder of the
    deployment's email texts (``notifications.render``; None: the packaged texts)."""

    urgent_days: int = 2
    working_days: int = 5
    holidays: Container[dt.date] | None = field(default=None, compare=False)
    email_overrides: Path | None = None

    def book_by(self, priority: str, accepted_at: dt.datetime) -> dt.datetime:
        calendar = self.holidays if self.holidays is not None else stations.french_holidays()
        return eligibility.book_by(
            priority,
            accepted_at,
            urgent_days=self.urgent_days,
            working_days=self.working_days,
            holidays=calendar,
        )


def policy_of(config: Any) -> BookingPolicy:
    """The policy of a ``Config``."""
    return BookingPolicy(
        urgent_days=config.appointment_urgent_days,
        working_days=config.appointment_working_days,
        email_overrides=config.instance_path / "emails",
    )


# --- slots and bookings ----------------------------------------------------------------------


def free_slots_query(
    station_code: str, now: dt.datetime, deadline: dt.datetime | None, exclude: set[int]
) -> Select[ComplaintSlot]:
    """The free reserved slots a booking may take, earliest first (not locked)."""
    booked = exists().where(Appointment.slot_id == ComplaintSlot.id, Appointment.status == "booked")
    statement = select(ComplaintSlot).where(
        ComplaintSlot.station_code == station_code,
        ComplaintSlot.reserved.is_(True),
        ComplaintSlot.released_at.is_(None),
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
    """The earliest free reserved slot, locked (skipping those other bookings hold)."""
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
        session, appointment.id, kind, now, overrides=policy.email_overrides
    )


def _book(
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


def _book_or_wait(
    session: Session,
    principal: Principal,
    request: AppointmentRequest,
    now: dt.datetime,
    policy: BookingPolicy,
) -> Appointment | None:
    """Book within the delay, else the request waits and the station is alerted."""
    appointment = _book(session, principal, request, now, request.book_by, policy)
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
        notifications.waiting_alert(session, request.id, now, overrides=policy.email_overrides)
    return appointment


def _lock_incident(session: Session, incident_id: str) -> Incident | None:
    found = session.execute(
        select(Incident.id).where(Incident.id == incident_id).with_for_update()
    ).first()
    if found is None:
        return None
    incident = session.get(Incident, incident_id)
    if incident is not None:
        session.refresh(incident)
    return incident


def book_for_incident(
    session: Session,
    incident_id: str,
    now: dt.datetime,
    *,
    policy: BookingPolicy,
) -> list[AppointmentRequest]:
    """Apply the eligibility of the incident's current sheet; return its requests.

    New eligible victims get a request and a booking (or wait); undecided ones an
    offer. Re-processing changes nothing already decided: a booking is kept, an
    offer whose victim now says ``yes`` is booked; an offer or a waiting request whose
    victim now says ``no`` (or is no longer eligible) is declined and leaves the queue.
    Offers and waiting requests follow the amended incident (``_follow_incident``): a
    waiting one whose deadline or station changed is then booked or waits as a new one.
    A withdrawn incident has no eligible victim any more: see ``_undo_withdrawn``.
    """
    incident = _lock_incident(session, incident_id)
    if incident is None or incident.pseudonymised_at:
        return []
    if incident.status == "withdrawn":
        return _undo_withdrawn(session, incident, now, policy)
    # Locked: a slot opening elsewhere (``fill_from_queue``) must not book a waiting
    # request while this moves it to another station.
    existing = {
        request.victim_index: request
        for request in session.scalars(
            select(AppointmentRequest)
            .where(AppointmentRequest.incident_id == incident.id)
            .order_by(AppointmentRequest.victim_index)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    station: PoliceStation | None = None
    station_looked_up = False

    def competent() -> str | None:
        nonlocal station, station_looked_up
        if not station_looked_up:
            station = stations.competent_station(session, incident.insee_code)
            station_looked_up = True
        return station.code if station is not None else None

    for decision in eligibility.evaluate(incident.sheet):
        request = existing.get(decision.victim_index)
        if decision.outcome == "none":
            # An offer, or a place in the queue, lapses; a booking is kept.
            if request is not None and request.state in ("offered", "waiting"):
                request.state = "declined"
                request.updated_at = now
                audit.record(
                    session,
                    WORKER,
                    "appointment_request.decline",
                    "appointment_request",
                    str(request.id),
                    now=now,
                    detail={"reason": decision.reason},
                )
            continue
        if request is None:
            request = AppointmentRequest(
                incident_id=incident.id,
                victim_index=decision.victim_index,
                operator_id=incident.operator_id,
                station_code=competent(),
                priority=incident.priority,
                book_by=policy.book_by(incident.priority, incident.received_at),
                delay_from=incident.received_at,
                state="offered" if decision.outcome == "offer" else "waiting",
                created_at=now,
                updated_at=now,
            )
            session.add(request)
            session.flush()
            existing[decision.victim_index] = request
            audit.record(
                session,
                WORKER,
                "appointment_request.create",
                "appointment_request",
                str(request.id),
                now=now,
                detail={"incident_id": incident.id, "outcome": decision.outcome},
            )
            if decision.outcome == "book":
                _book_or_wait(session, WORKER, request, now, policy)
            continue
        if decision.outcome == "book" and request.state in ("offered", "declined"):
            # The amended sheet now says yes: the delay runs from now.
            request.delay_from = now
            book_by = policy.book_by(incident.priority, now)
            _follow_incident(session, request, incident, competent(), book_by, now)
            _book_or_wait(session, WORKER, request, now, policy)
            continue
        if decision.outcome == "offer" and request.state == "declined":
            request.state = "offered"
            request.updated_at = now
        if request.state not in ("offered", "waiting"):
            continue  # booked: a person moves it; cancelled: over
        book_by = _book_by_for(request, incident.priority, incident.received_at, now, policy)
        moved = _follow_incident(session, request, incident, competent(), book_by, now)
        if request.state != "waiting":
            continue
        if moved:
            # As a new request: booked within its (new) deadline, else it waits and the
            # station (the new one, if it moved) learns the priority and deadline.
            _book_or_wait(session, WORKER, request, now, policy)
        else:
            _book(session, WORKER, request, now, request.book_by, policy)
    return sorted(existing.values(), key=lambda request: request.victim_index)


def _follow_incident(
    session: Session,
    request: AppointmentRequest,
    incident: Incident,
    competent_code: str | None,
    book_by: dt.datetime,
    now: dt.datetime,
) -> bool:
    """Give a request that is not booked the incident's priority, the deadline the caller
    computed for it, and the competent station; audited with what changed. True when
    its deadline or station changed. A place no station covers leaves the request at
    its station: a station that can take the complaint is better than none."""
    changes: dict[str, dict[str, str | None]] = {}
    if request.priority != incident.priority:
        changes["priority"] = {"from": request.priority, "to": incident.priority}
        request.priority = incident.priority
    if book_by != request.book_by:
        changes["book_by"] = {"from": request.book_by.isoformat(), "to": book_by.isoformat()}
        request.book_by = book_by
    if competent_code is not None and competent_code != request.station_code:
        # The queue is ordered by creation: the request keeps its place in the new one.
        changes["station"] = {"from": request.station_code, "to": competent_code}
        request.station_code = competent_code
    if not changes:
        return False
    request.updated_at = now
    session.flush()
    audit.record(
        session,
        WORKER,
        "appointment_request.update",
        "appointment_request",
        str(request.id),
        now=now,
        detail={"incident_id": incident.id, "version": incident.version, **changes},
    )
    return "book_by" in changes or "station" in changes


def _book_by_for(
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


def _undo_withdrawn(
    session: Session, incident: Incident, now: dt.datetime, policy: BookingPolicy
) -> list[AppointmentRequest]:
    """Undo what a withdrawn incident (locked by the caller) holds; return its requests.

    Appointments not yet started are cancelled as ``cancel`` does, their slots given
    to the queue; offers lapse (``declined``, as when an amended sheet says no: an
    offer never accepted is not a booking owed); waiting requests are ``cancelled``.
    Running it again finds nothing left to undo.
    """
    freed: set[str] = set()
    # Appointments are locked before requests, in the order a person's cancel or move
    # takes them (appointment, then its request): the other order could deadlock.
    _cancel_coming(session, incident.id, now, freed, policy)
    requests = session.scalars(
        select(AppointmentRequest)
        .where(AppointmentRequest.incident_id == incident.id)
        .order_by(AppointmentRequest.victim_index)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for request in requests:
        if request.state not in ("offered", "waiting"):
            continue
        lapsed = request.state == "offered"
        request.state = "declined" if lapsed else "cancelled"
        request.updated_at = now
        audit.record(
            session,
            WORKER,
            "appointment_request.decline" if lapsed else "appointment_request.cancel",
            "appointment_request",
            str(request.id),
            now=now,
            detail={"reason": "incident_withdrawn"},
        )
    session.flush()
    # An acceptance that committed while we waited for the requests' locks booked a
    # slot; now that we hold them, nothing else can.
    _cancel_coming(session, incident.id, now, freed, policy)
    for station_code in sorted(freed):
        fill_from_queue(session, station_code, now, policy=policy)
    return list(requests)


def _cancel_coming(
    session: Session, incident_id: str, now: dt.datetime, freed: set[str], policy: BookingPolicy
) -> None:
    """Cancel the incident's booked appointments that have not started; add their
    stations to ``freed``."""
    coming = (
        select(Appointment)
        .join(AppointmentRequest, AppointmentRequest.id == Appointment.request_id)
        .join(ComplaintSlot, ComplaintSlot.id == Appointment.slot_id)
        .where(
            AppointmentRequest.incident_id == incident_id,
            Appointment.status == "booked",
            ComplaintSlot.starts_at > now,
        )
        .order_by(Appointment.id)
        .with_for_update(of=Appointment)
        .execution_options(populate_existing=True)
    )
    # Asked again until none is left: a move that committed while we waited for its
    # lock ended that appointment and booked another, which only a later statement sees.
    while found := session.scalars(coming).all():
        for appointment in found:
            _cancel_booked(
                session,
                WORKER,
                appointment,
                WITHDRAWAL_REASON,
                now,
                policy,
                detail={"cause": "incident_withdrawn"},
            )
            freed.add(appointment.station_code)


def place_requests_without_station(
    session: Session, now: dt.datetime, *, policy: BookingPolicy
) -> int:
    """Requests waiting with no station whose commune a station now covers (after a
    station import): each incident is processed as at its next event, so they are
    booked there or join its queue, without waiting for an event that may never
    come. Returns how many requests got a station."""
    incident_ids = session.scalars(
        select(AppointmentRequest.incident_id)
        .where(AppointmentRequest.state == "waiting", AppointmentRequest.station_code.is_(None))
        .distinct()
        .order_by(AppointmentRequest.incident_id)
    ).all()
    placed = 0
    for incident_id in incident_ids:
        requests = book_for_incident(session, incident_id, now, policy=policy)
        placed += sum(1 for request in requests if request.station_code is not None)
    return placed


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
        appointment = _book(session, principal, request, now, None, policy)
        if appointment is None:
            break
        booked.append(appointment)
    return booked


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
    _book_or_wait(session, principal, request, now, policy)
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
    _cancel_booked(session, principal, appointment, reason, now, policy)
    fill_from_queue(session, appointment.station_code, now, policy=policy)
    return appointment


def _cancel_booked(
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
        session, appointment.id, "cancelled", now, overrides=policy.email_overrides
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
    if slot is None:
        raise Refused("slot_id", "No such slot.", conflict=False)
    if slot.id == appointment.slot_id:
        raise Refused("slot_id", "The appointment already holds this slot.", conflict=False)
    if slot.station_code != appointment.station_code:
        current = session.get(PoliceStation, appointment.station_code)
        other = session.get(PoliceStation, slot.station_code)
        if (
            current is None
            or other is None
            or current.service_code is None
            or current.service_code != other.service_code
        ):
            raise Refused(
                "slot_id",
                "The slot is not at a station of the same police service.",
                conflict=False,
            )
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
