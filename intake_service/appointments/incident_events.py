"""What an incident's events do to its staff victims' appointments (the
``internal.appointments`` consumer calls ``book_for_incident``).

One ``AppointmentRequest`` per (incident, victim) that ``eligibility`` says gets a
booking or an offer: re-processing an event finds it and books nothing more. A request
whose incident's commune no station covers waits with no station (``station_code``
null): an administrator must import a station covering it (``intake-service stations
import``), which then places it (``place_requests_without_station``).

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
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.appointments import stations
from intake_service.appointments.booking import book, book_by_for, book_or_wait, fill_from_queue
from intake_service.appointments.changes import cancel_booked
from intake_service.appointments.policy import WORKER, BookingPolicy
from intake_service.appointments.rules import eligibility
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    Incident,
    PoliceStation,
)

# The reason the victim's and the referent's emails give when a withdrawal cancels
# an appointment (they read French). The operator's own words for the withdrawal
# are written for the command centre and are not passed on.
WITHDRAWAL_REASON = "La fiche d'incident a été retirée par l'exploitant."


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
                book_or_wait(session, WORKER, request, now, policy)
            continue
        if decision.outcome == "book" and request.state in ("offered", "declined"):
            # The amended sheet now says yes: the delay runs from now.
            request.delay_from = now
            book_by = policy.book_by(incident.priority, now)
            _follow_incident(session, request, incident, competent(), book_by, now)
            book_or_wait(session, WORKER, request, now, policy)
            continue
        if decision.outcome == "offer" and request.state == "declined":
            request.state = "offered"
            request.updated_at = now
        if request.state not in ("offered", "waiting"):
            continue  # booked: a person moves it; cancelled: over
        book_by = book_by_for(request, incident.priority, incident.received_at, now, policy)
        moved = _follow_incident(session, request, incident, competent(), book_by, now)
        if request.state != "waiting":
            continue
        if moved:
            # As a new request: booked within its (new) deadline, else it waits and the
            # station (the new one, if it moved) learns the priority and deadline.
            book_or_wait(session, WORKER, request, now, policy)
        else:
            book(session, WORKER, request, now, request.book_by, policy)
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
            cancel_booked(
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
