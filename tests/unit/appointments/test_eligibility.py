"""Who gets a priority complaint appointment, and by when: a table (appointments.md)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import holidays
import pytest

from intake_service.appointments.rules import eligibility

STAFF: dict[str, Any] = {
    "kind": "staff",
    "staff_function": "driver",
    "on_duty": True,
    "injury": "minor",
    "wants_to_file_complaint": "yes",
    "contact": {"name": "Agent Fictif", "phone": "+33612345678"},
    "consents": {"appointment_contact": True},
}
ASSAULT = ["physical_assault_staff"]


def victim(**changes: Any) -> dict[str, Any]:
    made = copy.deepcopy(STAFF)
    for key, value in changes.items():
        if value is None:
            made.pop(key, None)
        else:
            made[key] = value
    return made


# (case, natures, victim, expected outcome, expected reason)
TABLE = [
    ("staff on duty, yes, contact, consent", ASSAULT, victim(), "book", "eligible"),
    ("email only is a contact", ASSAULT, victim(contact={"email": "a@b.fr"}), "book", "eligible"),
    ("threat or insult", ["threat_or_insult_staff"], victim(), "book", "eligible"),
    ("sexual or sexist violence", ["sexual_or_sexist_violence"], victim(), "book", "eligible"),
    ("violent theft", ["violent_theft"], victim(), "book", "eligible"),
    ("violence, staff the victims", ["violence_passenger"], victim(), "book", "eligible"),
    ("one nature of several", ["vandalism", "violent_theft"], victim(), "book", "eligible"),
    (
        "undecided: an offer",
        ASSAULT,
        victim(wants_to_file_complaint="undecided"),
        "offer",
        "undecided",
    ),
    ("passenger victim", ASSAULT, {"kind": "passenger", "injury": "minor"}, "none", "not_staff"),
    (
        "passenger who wants to complain",
        ASSAULT,
        {**victim(), "kind": "passenger"},
        "none",
        "not_staff",
    ),
    ("third party", ASSAULT, {"kind": "third_party", "injury": "none"}, "none", "not_staff"),
    (
        "does not want to complain",
        ASSAULT,
        victim(wants_to_file_complaint="no"),
        "none",
        "declined",
    ),
    ("no consent", ASSAULT, victim(consents={}), "none", "no_consent"),
    (
        "consent refused",
        ASSAULT,
        victim(consents={"appointment_contact": False}),
        "none",
        "no_consent",
    ),
    ("no consents at all", ASSAULT, victim(consents=None), "none", "no_consent"),
    (
        "undecided without consent",
        ASSAULT,
        victim(wants_to_file_complaint="undecided", consents={}),
        "none",
        "no_consent",
    ),
    ("not on duty", ASSAULT, victim(on_duty=False), "none", "not_on_duty"),
    ("on duty not given", ASSAULT, victim(on_duty=None), "none", "not_on_duty"),
    ("no contact", ASSAULT, victim(contact=None), "none", "no_contact"),
    ("a name is not a contact", ASSAULT, victim(contact={"name": "X"}), "none", "no_contact"),
    (
        "undecided without contact",
        ASSAULT,
        victim(wants_to_file_complaint="undecided", contact=None),
        "none",
        "no_contact",
    ),
    (
        "no nature against the person",
        ["vandalism", "theft"],
        victim(),
        "none",
        "no_nature_against_person",
    ),
    ("wish not given", ASSAULT, victim(wants_to_file_complaint=None), "none", "no_wish"),
]


@pytest.mark.parametrize(
    ("natures", "person", "outcome", "reason"),
    [pytest.param(n, v, o, r, id=case) for case, n, v, o, r in TABLE],
)
def test_who_gets_an_appointment(
    natures: list[str], person: dict[str, Any], outcome: str, reason: str
) -> None:
    decision = eligibility.decide(person, frozenset(natures), 3)
    assert (decision.victim_index, decision.outcome, decision.reason) == (3, outcome, reason)
    assert decision.reason in eligibility.REASONS


def test_every_victim_of_a_sheet_gets_a_decision_in_order() -> None:
    sheet = {
        "natures": ASSAULT,
        "victims": [
            {"kind": "passenger", "injury": "minor"},
            victim(),
            victim(wants_to_file_complaint="undecided"),
        ],
    }
    assert [(d.victim_index, d.outcome) for d in eligibility.evaluate(sheet)] == [
        (0, "none"),
        (1, "book"),
        (2, "offer"),
    ]
    assert eligibility.evaluate({"natures": ASSAULT, "victims": []}) == []


FR = holidays.country_holidays("FR")


def paris(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=eligibility.PARIS)


# (case, priority, accepted (Paris), book by (Paris))
DEADLINES = [
    ("P1: two calendar days", "P1", "2026-03-14T18:30", "2026-03-16T18:30"),
    ("P2: over a weekend too", "P2", "2026-05-01T10:00", "2026-05-03T10:00"),
    ("P3 on a Monday: next Monday", "P3", "2026-03-02T09:00", "2026-03-09T09:00"),
    ("P4 on a Friday: the weekend does not count", "P4", "2026-03-06T15:00", "2026-03-13T15:00"),
    (
        "P3 on a Saturday: Monday is the first working day",
        "P3",
        "2026-03-14T18:30",
        "2026-03-20T18:30",
    ),
    # 2026-05-01 (Friday, fête du Travail) and 2026-05-08 (Friday, Victoire 1945).
    ("P3 on Thursday 30 April: 1 and 8 May skipped", "P3", "2026-04-30T11:00", "2026-05-11T11:00"),
    # 2026-05-14 Ascension (Thursday).
    ("P4 on Monday 11 May: Ascension skipped", "P4", "2026-05-11T08:00", "2026-05-19T08:00"),
    (
        "P3 on Friday 24 December 2027: Christmas is a Saturday",
        "P3",
        "2027-12-24T16:00",
        "2027-12-31T16:00",
    ),
    (
        "P4 on Thursday 24 December 2026: Christmas and New Year skipped",
        "P4",
        "2026-12-24T16:00",
        "2027-01-04T16:00",
    ),
]


@pytest.mark.parametrize(
    ("priority", "accepted", "expected"),
    [pytest.param(p, a, e, id=case) for case, p, a, e in DEADLINES],
)
def test_book_by(priority: str, accepted: str, expected: str) -> None:
    deadline = eligibility.book_by(
        priority, paris(accepted), urgent_days=2, working_days=5, holidays=FR
    )
    assert deadline.tzinfo is not None
    assert deadline == paris(expected)


def test_book_by_follows_the_settings_and_needs_an_aware_time() -> None:
    accepted = paris("2026-03-02T09:00")
    assert eligibility.book_by("P1", accepted, urgent_days=1, working_days=5, holidays=FR) == paris(
        "2026-03-03T09:00"
    )
    assert eligibility.book_by("P4", accepted, urgent_days=2, working_days=2, holidays=FR) == paris(
        "2026-03-04T09:00"
    )
    with pytest.raises(ValueError, match="aware"):
        eligibility.book_by(
            "P4", dt.datetime(2026, 3, 2, 9), urgent_days=2, working_days=5, holidays=FR
        )
