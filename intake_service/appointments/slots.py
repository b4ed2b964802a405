"""A station's complaint slots: create one, generate a period of them, close one,
release the reserved ones no request took.

Slots are complaint-taking times of a station, in Europe/Paris time; French public
holidays are never offered. A share of them is reserved for priority appointments,
offered first to the station's waiting requests (booked with the caller's
``BookingPolicy``): a slot is created, then the queue is filled from it. An unused
reserved slot is released (``released_at``) a set time before it starts, for ordinary
booking.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal, station_of
from intake_service.models import Appointment, ComplaintSlot, PoliceStation, StationCommune
from intake_service.platform.clock import PARIS
from intake_service.territory.rules.departments import department_of_commune, department_of_service

if TYPE_CHECKING:
    # The booking module imports this one: its policy is only named here.
    from intake_service.appointments.policy import BookingPolicy
from intake_service.appointments.rules.working_days import french_holidays
from intake_service.appointments.stations import SYSTEM, valid_id
from intake_service.platform.errors import NotFound

HOUR = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
# No generation over more than a year at once.
MAX_GENERATION_DAYS = 366
MAX_SLOT_DURATION = dt.timedelta(hours=8)


def get_slot(session: Session, principal: Principal, slot_id: int) -> ComplaintSlot:
    slot = session.get(ComplaintSlot, slot_id) if valid_id(slot_id) else None
    if slot is None or station_of(principal) != slot.station_code:
        raise NotFound(str(slot_id))
    return slot


# --- slots -----------------------------------------------------------------------------------


class SlotRefused(ValueError):
    """A slot that cannot be created or changed; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.conflict = conflict


def slot_is_booked(session: Session, slot_id: int) -> bool:
    return (
        session.scalar(
            select(Appointment.id).where(
                Appointment.slot_id == slot_id, Appointment.status == "booked"
            )
        )
        is not None
    )


def station_holidays(session: Session, station_code: str) -> Container[dt.date]:
    """The public holidays where the station is: its service's département (ddsp-57),
    else that of the communes it is competent for, else the metropolitan calendar."""
    station = session.get(PoliceStation, station_code)
    department = department_of_service(station.service_code) if station is not None else None
    if department is None:
        insee = session.scalar(
            select(StationCommune.insee_code)
            .where(StationCommune.station_code == station_code)
            .order_by(StationCommune.insee_code)
            .limit(1)
        )
        department = department_of_commune(insee)
    return french_holidays(department)


def create_slot(
    session: Session,
    station_code: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    reserved: bool,
    now: dt.datetime,
    policy: BookingPolicy,
    principal: Principal = SYSTEM,
    holidays: Container[dt.date] | None = None,
    fill_queue: bool = True,
) -> ComplaintSlot:
    """One slot; refused on a public holiday, in the past, or ending before it starts.

    A reserved slot is first offered to the station's waiting requests (booked with
    ``policy``).
    """
    calendar = station_holidays(session, station_code) if holidays is None else holidays
    if ends_at <= starts_at:
        raise SlotRefused("ends_at", "The slot must end after it starts.")
    if ends_at - starts_at > MAX_SLOT_DURATION:
        raise SlotRefused("ends_at", "A slot lasts at most 8 hours.")
    if starts_at <= now:
        raise SlotRefused("starts_at", "The slot must start in the future.")
    if starts_at.astimezone(PARIS).date() in calendar:
        raise SlotRefused("starts_at", "No slot on a public holiday of the station.")
    slot = ComplaintSlot(
        station_code=station_code,
        starts_at=starts_at,
        ends_at=ends_at,
        reserved=reserved,
        created_at=now,
    )
    session.add(slot)
    session.flush()
    audit.record(session, principal, "slot.create", "complaint_slot", str(slot.id), now=now)
    if fill_queue and reserved:
        _fill_queue(session, station_code, now, policy)
    return slot


def _minutes(text: str, field: str) -> int:
    match = HOUR.fullmatch(text)
    if match is None:
        raise SlotRefused(field, f"{text!r} is not an hour HH:MM.")
    return int(match.group(1)) * 60 + int(match.group(2))


def reserved_positions(count: int, share: float) -> set[int]:
    """Which of ``count`` slots of a day are reserved: ``share`` of them, spread out
    (every k-th one: for a half, the 2nd, 4th...; for a quarter, the 4th, 8th...)."""
    fraction = Fraction(str(share)).limit_denominator(1000)
    return {index for index in range(count) if (index + 1) * fraction // 1 > index * fraction // 1}


def generate_slots(
    session: Session,
    station_code: str,
    start_date: dt.date,
    end_date: dt.date,
    weekly_hours: Mapping[int, Sequence[tuple[str, str]]],
    slot_minutes: int,
    reserved_share: float,
    now: dt.datetime,
    *,
    policy: BookingPolicy,
    principal: Principal = SYSTEM,
    holidays: Container[dt.date] | None = None,
    fill_queue: bool = True,
) -> list[ComplaintSlot]:
    """Slots of ``slot_minutes`` over the opening hours of each weekday (0 = Monday), in
    Paris time, from ``start_date`` to ``end_date`` included; public holidays and past
    times skipped, as are starts the station already has (so generating twice adds
    nothing). ``reserved_share`` (0–1) of each day's slots are reserved, spread out.
    Then the station's waiting requests are offered the new reserved slots.
    """
    calendar = station_holidays(session, station_code) if holidays is None else holidays
    if end_date < start_date:
        raise SlotRefused("end_date", "The end date is before the start date.")
    if (end_date - start_date).days >= MAX_GENERATION_DAYS:
        raise SlotRefused("end_date", f"At most {MAX_GENERATION_DAYS} days at once.")
    if not 5 <= slot_minutes <= 480:
        raise SlotRefused("slot_minutes", "Between 5 and 480 minutes.")
    if not 0 <= reserved_share <= 1:
        raise SlotRefused("reserved_share", "A share between 0 and 1.")
    periods: dict[int, list[tuple[int, int]]] = {}
    for weekday, hours in weekly_hours.items():
        if weekday not in range(7):
            raise SlotRefused("weekly_hours", f"{weekday} is not a weekday (0 = Monday … 6).")
        for start, end in hours:
            field = f"weekly_hours.{weekday}"
            first, last = _minutes(start, field), _minutes(end, field)
            if last <= first:
                raise SlotRefused(field, f"{start}–{end}: the end must be after the start.")
            periods.setdefault(weekday, []).append((first, last))
    existing = set(
        session.scalars(
            select(ComplaintSlot.starts_at).where(
                ComplaintSlot.station_code == station_code,
                ComplaintSlot.starts_at >= dt.datetime.combine(start_date, dt.time(), tzinfo=PARIS),
                ComplaintSlot.starts_at
                < dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), tzinfo=PARIS),
            )
        )
    )
    created: list[ComplaintSlot] = []
    day = start_date
    while day <= end_date:
        if day not in calendar:
            starts: list[int] = []
            for first, last in sorted(periods.get(day.weekday(), [])):
                minute = first
                while minute + slot_minutes <= last:
                    starts.append(minute)
                    minute += slot_minutes
            starts = sorted(set(starts))
            reserved = reserved_positions(len(starts), reserved_share)
            for index, minute in enumerate(starts):
                local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=PARIS)
                starts_at = local.astimezone(dt.UTC)
                if starts_at <= now or starts_at in existing:
                    continue
                slot = ComplaintSlot(
                    station_code=station_code,
                    starts_at=starts_at,
                    ends_at=starts_at + dt.timedelta(minutes=slot_minutes),
                    reserved=index in reserved,
                    created_at=now,
                )
                session.add(slot)
                created.append(slot)
        day += dt.timedelta(days=1)
    session.flush()
    audit.record(
        session,
        principal,
        "slot.generate",
        "police_station",
        station_code,
        now=now,
        detail={"slots": len(created), "from": start_date.isoformat(), "to": end_date.isoformat()},
    )
    if fill_queue and any(slot.reserved for slot in created):
        _fill_queue(session, station_code, now, policy)
    return created


def close_slot(
    session: Session, principal: Principal, slot_id: int, now: dt.datetime
) -> ComplaintSlot:
    """Close a slot of the officer's station; refused while an appointment holds it."""
    slot = get_slot(session, principal, slot_id)
    session.execute(select(ComplaintSlot.id).where(ComplaintSlot.id == slot.id).with_for_update())
    if slot.closed_at is not None:
        return slot
    if slot_is_booked(session, slot.id):
        raise SlotRefused(
            "slot_id",
            "An appointment holds this slot: cancel or reschedule it first.",
            conflict=True,
        )
    slot.closed_at = now
    session.flush()
    audit.record(session, principal, "slot.close", "complaint_slot", str(slot.id), now=now)
    return slot


def release_reserved(session: Session, now: dt.datetime, release_before: dt.timedelta) -> int:
    """Release the unused reserved slots starting within ``release_before``; their count."""
    booked = exists().where(Appointment.slot_id == ComplaintSlot.id, Appointment.status == "booked")
    result = session.execute(
        update(ComplaintSlot)
        .where(
            ComplaintSlot.reserved.is_(True),
            ComplaintSlot.released_at.is_(None),
            ComplaintSlot.closed_at.is_(None),
            ComplaintSlot.starts_at > now,
            ComplaintSlot.starts_at <= now + release_before,
            ~booked,
        )
        .values(released_at=now)
        .execution_options(synchronize_session=False)
    )
    released = int(getattr(result, "rowcount", 0) or 0)
    if released:
        audit.record(
            session,
            SYSTEM,
            "slot.release",
            "complaint_slot",
            None,
            now=now,
            detail={"slots": released},
        )
    return released


def _fill_queue(
    session: Session, station_code: str, now: dt.datetime, policy: BookingPolicy
) -> None:
    # The booking module uses this one: imported here, when needed, to avoid a cycle.
    from intake_service.appointments import booking

    booking.fill_from_queue(session, station_code, now, policy=policy)
