"""Appointment test data written directly as rows (station, slot, request, appointment).

The booking itself is ``incident_events.book_for_incident``'s; these
builders let the notice, mailer, summary and measures tests stand on their own.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sqlalchemy import select

from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    Incident,
    Operator,
    PoliceStation,
    StationCommune,
)
from intake_service.platform.db import Database
from tests.factories import a_sheet

STAFF_VICTIM: dict[str, Any] = {
    "kind": "staff",
    "staff_function": "driver",
    "on_duty": True,
    "injury": "minor",
    "wants_to_file_complaint": "yes",
    "contact": {"name": "Agent Fictif", "email": "agent.fictif@example.org"},
    "consents": {"appointment_contact": True},
}


def victim_sheet(reference: str, **victim_changes: Any) -> dict[str, Any]:
    """A sheet whose only victim is an on-duty driver wanting to file a complaint."""
    victim = copy.deepcopy(STAFF_VICTIM)
    victim.update(victim_changes)
    return a_sheet(reference, victims=[victim])


def add_station(
    db: Database,
    now: dt.datetime,
    code: str = "csp-toulouse",
    *,
    insee_code: str = "31555",
    name: str = "Commissariat central de Toulouse",
) -> None:
    with db.transaction() as session:
        if session.get(PoliceStation, code) is not None:
            return
        session.add(
            PoliceStation(
                code=code,
                name=name,
                address="23 boulevard de l'Embouchure, 31000 Toulouse",
                lat=43.6117,
                lon=1.4278,
                service_code="ddsp-31",
                referent_email=f"referent@{code}.example",
                created_at=now,
            )
        )
        session.flush()
        session.add(StationCommune(insee_code=insee_code, station_code=code))


def set_referent(db: Database, operator_code: str, address: str | None) -> None:
    with db.transaction() as session:
        operator = session.scalars(select(Operator).where(Operator.code == operator_code)).one()
        operator.referent_email = address


def add_slot(
    db: Database, station_code: str, starts_at: dt.datetime, *, reserved: bool = True
) -> int:
    with db.transaction() as session:
        slot = ComplaintSlot(
            station_code=station_code,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=45),
            reserved=reserved,
            released_at=None,
            closed_at=None,
            created_at=starts_at - dt.timedelta(days=10),
        )
        session.add(slot)
        session.flush()
        return slot.id


def add_request(
    db: Database,
    incident_id: str,
    now: dt.datetime,
    *,
    station_code: str | None = "csp-toulouse",
    state: str = "waiting",
    victim_index: int = 0,
    book_by: dt.timedelta = dt.timedelta(days=2),
) -> int:
    with db.transaction() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        request = AppointmentRequest(
            incident_id=incident_id,
            victim_index=victim_index,
            operator_id=incident.operator_id,
            station_code=station_code,
            priority=incident.priority,
            book_by=now + book_by,
            state=state,
            created_at=now,
            updated_at=now,
        )
        session.add(request)
        session.flush()
        return request.id


def book(
    db: Database, request_id: int, slot_id: int, now: dt.datetime, *, status: str = "booked"
) -> int:
    with db.transaction() as session:
        request = session.get(AppointmentRequest, request_id)
        slot = session.get(ComplaintSlot, slot_id)
        assert request is not None
        assert slot is not None
        request.state = "booked"
        appointment = Appointment(
            request_id=request_id,
            slot_id=slot_id,
            station_code=slot.station_code,
            status=status,
            booked_at=now,
            booked_by="test",
            ended_at=None,
            end_reason=None,
        )
        session.add(appointment)
        session.flush()
        return appointment.id


PAGE_PASSWORD = "mot-de-passe-de-test"


def page_client(app: Any, db: Database, now: dt.datetime, role: str, scope: str) -> Any:
    """A test client signed in (session cookie) as a new account of ``role`` and ``scope``."""
    from intake_service.access.accounts import add_user

    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests (tests/e2e)
    email = f"{role}.{scope}@pages.test".replace("*", "all")
    with db.transaction() as session:
        add_user(session, email, PAGE_PASSWORD, role, scope, now=now)
    client = app.test_client()
    response = client.post("/connexion", data={"email": email, "password": PAGE_PASSWORD})
    assert response.status_code == 302, f"{email} could not sign in"
    return client
