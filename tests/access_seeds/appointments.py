"""Seeds of the appointments' rows: two stations, slots, a booked appointment, an offer.

The matrix's station officer is of ``csp-toulouse``, which covers Toulouse (31555),
the commune of the matrix's tisseo incident; ``csp-toulon`` is a foreign station.
``<station_code>`` is csp-toulouse, ``<slot_id>`` a free slot of it, ``<appointment_id>``
an appointment of the seeded incident there. The request and appointment rows are
written directly (the seeded sheet's victims do not matter). Rows that change an
appointment act on a fresh one (``fresh: appointment``); accepting an offer on a
fresh offer (``fresh: appointment_offer``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.orm import Session

from intake_service.appointments import stations
from intake_service.models import Appointment, AppointmentRequest, ComplaintSlot, Incident

STATIONS_CSV = (
    "code,name,address,lat,lon,service_code,communes,referent_email\n"
    "csp-toulouse,Commissariat central de Toulouse,"
    '"23 boulevard de l\'Embouchure, 31200 Toulouse",43.6196,1.4297,ddsp-31,31555,\n'
    'csp-toulon,Commissariat central de Toulon,"1 rue Commissaire Morandin, 83000 Toulon",'
    "43.1249,5.9306,ddsp-83,83137,\n"
)
# Victim indexes of the fresh requests: beyond the sheet's victims, one per request.
_victims = itertools.count(100)
_minutes = itertools.count(0)
# The free slot the last fresh appointment may be moved to (read by the reschedule body).
_target: dict[str, int] = {}


def _slot(session: Session, station: str, starts_at: dt.datetime, *, reserved: bool) -> int:
    slot = ComplaintSlot(
        station_code=station,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        reserved=reserved,
        created_at=starts_at - dt.timedelta(days=7),
    )
    session.add(slot)
    session.flush()
    return slot.id


def _request(session: Session, incident_id: str, now: dt.datetime, state: str) -> int:
    incident = session.get(Incident, incident_id)
    assert incident is not None
    request = AppointmentRequest(
        incident_id=incident_id,
        victim_index=next(_victims),
        operator_id=incident.operator_id,
        station_code="csp-toulouse",
        priority=incident.priority,
        book_by=now + dt.timedelta(days=2),
        state=state,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    return request.id


def _appointment(session: Session, incident_id: str, now: dt.datetime) -> tuple[int, int]:
    """A booked appointment in a slot that started an hour ago (its outcome may be
    recorded), and a free future slot to move it to."""
    started = now - dt.timedelta(hours=1, minutes=next(_minutes))
    slot_id = _slot(session, "csp-toulouse", started, reserved=True)
    request_id = _request(session, incident_id, now, "booked")
    appointment = Appointment(
        request_id=request_id,
        slot_id=slot_id,
        station_code="csp-toulouse",
        status="booked",
        booked_at=now,
        booked_by="test:access-matrix",
    )
    session.add(appointment)
    session.flush()
    target = _slot(
        session, "csp-toulouse", now + dt.timedelta(days=3, minutes=next(_minutes)), reserved=False
    )
    return appointment.id, target


def seed(setting: Any) -> dict[str, str]:
    db = setting.app.extensions["intake.db"]
    now = setting.clock.now
    with db.transaction() as session:
        stations.import_stations(session, stations.parse_stations(STATIONS_CSV), now)
        free = _slot(session, "csp-toulouse", now + dt.timedelta(days=2), reserved=True)
        _slot(session, "csp-toulon", now + dt.timedelta(days=2), reserved=True)
        appointment_id, target = _appointment(session, setting.incident_id, now)
        _target["slot_id"] = target
        offer = _request(session, setting.incident_id, now, "offered")
    return {
        "station_code": "csp-toulouse",
        "slot_id": str(free),
        "appointment_id": str(appointment_id),
        "request_id": str(offer),
    }


def fresh_appointment(setting: Any) -> dict[str, str]:
    db = setting.app.extensions["intake.db"]
    with db.transaction() as session:
        appointment_id, target = _appointment(session, setting.incident_id, setting.clock.now)
    _target["slot_id"] = target
    return {"appointment_id": str(appointment_id)}


def fresh_offer(setting: Any) -> dict[str, str]:
    db = setting.app.extensions["intake.db"]
    with db.transaction() as session:
        request_id = _request(session, setting.incident_id, setting.clock.now, "offered")
    return {"request_id": str(request_id)}


_single_slots = itertools.count(1)


def _single_slot() -> dict[str, Any]:
    # The matrix's clock is Saturday 14 March 2026; Monday 16 March, one slot per call.
    starts = dt.datetime(2026, 3, 16, 8, tzinfo=dt.UTC) + dt.timedelta(
        minutes=30 * next(_single_slots)
    )
    return {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(minutes=30)).isoformat(),
        "reserved": False,
    }


FRESH = {"appointment": fresh_appointment, "appointment_offer": fresh_offer}
BODIES = {
    "slot_single": ("json", _single_slot),
    "appointment_cancel": ("json", lambda: {"reason": "Empêchement de la victime."}),
    "appointment_reschedule": (
        "json",
        lambda: {"slot_id": _target["slot_id"], "reason": "Horaires de service."},
    ),
    "appointment_outcome": ("json", lambda: {"outcome": "honoured"}),
}
