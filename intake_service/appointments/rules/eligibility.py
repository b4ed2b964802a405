"""Who gets a priority complaint appointment, and by when (``shared/domain/appointments.md``).

Pure rules: a sheet in, a decision per victim out; the delay from the priority and
the acceptance time, with the public holidays passed in (``holidays`` package,
read by the caller) so nothing here does I/O.

- ``book``: a staff victim, on duty, of a sheet with a nature against the person,
  who wants to file a complaint (``yes``) and gave a contact and the
  ``appointment_contact`` consent: a slot is booked.
- ``offer``: the same but ``undecided``: an offer to accept later, nothing booked.
- ``none``: anyone else (passengers and third parties use the ordinary channels),
  with the reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from intake_service.appointments.rules.working_days import add_working_days
from intake_service.platform.clock import PARIS

# Natures against the person. ``violence_passenger`` counts for a staff victim
# (staff were the victims of the violence).
NATURES_AGAINST_PERSON = frozenset(
    {
        "physical_assault_staff",
        "threat_or_insult_staff",
        "sexual_or_sexist_violence",
        "violent_theft",
        "violence_passenger",
    }
)
URGENT_PRIORITIES = frozenset({"P1", "P2"})

Outcome = Literal["book", "offer", "none"]

# Why a victim gets what it gets (stable codes, for API documents and tests).
REASONS = {
    "eligible": "staff victim on duty who wants to file a complaint",
    "undecided": "staff victim on duty, undecided: an offer to accept later",
    "not_staff": "not a staff victim: ordinary channels (online complaint, station)",
    "not_on_duty": "staff victim not on duty",
    "no_nature_against_person": "no nature against the person in the sheet",
    "declined": "does not want to file a complaint",
    "no_wish": "the wish to file a complaint is not given",
    "no_contact": "no contact (phone or email) to send the appointment to",
    "no_consent": "no appointment_contact consent",
}


@dataclass(frozen=True)
class Decision:
    victim_index: int
    outcome: Outcome
    reason: str


def decide(victim: Mapping[str, Any], natures: Container[str], index: int = 0) -> Decision:
    """The decision for one victim of a sheet whose natures are ``natures``."""

    def none(reason: str) -> Decision:
        return Decision(index, "none", reason)

    if victim.get("kind") != "staff":
        return none("not_staff")
    if victim.get("on_duty") is not True:
        return none("not_on_duty")
    if not any(nature in natures for nature in NATURES_AGAINST_PERSON):
        return none("no_nature_against_person")
    wish = victim.get("wants_to_file_complaint")
    if wish == "no":
        return none("declined")
    if wish not in ("yes", "undecided"):
        return none("no_wish")
    contact = victim.get("contact") or {}
    if not (contact.get("phone") or contact.get("email")):
        return none("no_contact")
    if (victim.get("consents") or {}).get("appointment_contact") is not True:
        return none("no_consent")
    if wish == "yes":
        return Decision(index, "book", "eligible")
    return Decision(index, "offer", "undecided")


def evaluate(sheet: Mapping[str, Any]) -> list[Decision]:
    """One decision per victim of the sheet, in the sheet's order."""
    natures = frozenset(sheet.get("natures") or ())
    victims: Sequence[Mapping[str, Any]] = sheet.get("victims") or ()
    return [decide(victim, natures, index) for index, victim in enumerate(victims)]


def book_by(
    priority: str,
    accepted_at: dt.datetime,
    *,
    urgent_days: int,
    working_days: int,
    holidays: Container[dt.date],
) -> dt.datetime:
    """The latest start of the appointment: ``urgent_days`` calendar days after acceptance
    for P1/P2, else ``working_days`` working days (Monday–Friday, public holidays
    excluded, counted on Paris dates, at the same Paris time of day). UTC.
    """
    if accepted_at.tzinfo is None:
        raise ValueError("accepted_at must be timezone-aware")
    if priority in URGENT_PRIORITIES:
        return (accepted_at + dt.timedelta(days=urgent_days)).astimezone(dt.UTC)
    local = accepted_at.astimezone(PARIS)
    day = add_working_days(local.date(), working_days, holidays)
    deadline = dt.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=PARIS)
    return deadline.astimezone(dt.UTC)
