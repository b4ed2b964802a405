"""The meetings' rules as tables: the next date by rhythm, the reminder's window, the
agenda from the brief's problems, and the minutes' redaction."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.gpo.rules import meetings as rules
from intake_service.gpo.rules.meetings import AgendaAction, AgendaProblem
from schemas import gpo_meetings as schema

D = dt.date


@pytest.mark.parametrize(
    ("rhythm", "last", "today", "expected"),
    [
        # Fortnightly: 14 days on.
        ("fortnightly", D(2026, 3, 3), D(2026, 3, 4), D(2026, 3, 17)),
        # ... stepped on by 14 days while in the past.
        ("fortnightly", D(2026, 1, 6), D(2026, 3, 4), D(2026, 3, 17)),
        ("fortnightly", D(2026, 3, 3), D(2026, 3, 17), D(2026, 3, 17)),
        # Monthly: the same weekday of the month (the 1st, 3rd Tuesday...).
        ("monthly", D(2026, 3, 3), D(2026, 3, 4), D(2026, 4, 7)),
        ("monthly", D(2026, 3, 17), D(2026, 3, 18), D(2026, 4, 21)),
        ("monthly", D(2026, 12, 10), D(2026, 12, 11), D(2027, 1, 14)),  # 2nd Thursday
        # A 5th Tuesday (31 March) has no match in April: one month on, clamped.
        ("monthly", D(2026, 3, 31), D(2026, 4, 1), D(2026, 4, 30)),
        # The 5th Thursday of January: February has four; one month on, clamped to its end.
        ("monthly", D(2026, 1, 29), D(2026, 1, 30), D(2026, 2, 28)),
        # Stepped on while in the past.
        ("monthly", D(2026, 1, 6), D(2026, 3, 4), D(2026, 4, 7)),
        # Dates: nothing proposed; nothing held: nothing proposed.
        ("dates", D(2026, 3, 3), D(2026, 3, 4), None),
        ("monthly", None, D(2026, 3, 4), None),
        ("fortnightly", None, D(2026, 3, 4), None),
    ],
)
def test_next_meeting_day(
    rhythm: str, last: dt.date | None, today: dt.date, expected: dt.date | None
) -> None:
    assert rules.next_meeting_day(rhythm, last, today) == expected


def test_monthly_keeps_the_weekday_of_the_month() -> None:
    day = D(2026, 1, 13)  # the 2nd Tuesday
    for _ in range(24):
        following = rules.step("monthly", day)
        assert following is not None
        assert following.weekday() == day.weekday()
        assert (following.day - 1) // 7 == (day.day - 1) // 7
        day = following


def test_unknown_rhythm_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rhythm"):
        rules.step("weekly", D(2026, 3, 3))


NOW = dt.datetime(2026, 3, 14, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("planned_in", "reminded", "due"),
    [
        (dt.timedelta(hours=47), False, True),
        (dt.timedelta(hours=48), False, True),
        (dt.timedelta(hours=49), False, False),
        (dt.timedelta(hours=1), True, False),  # sent once
        (dt.timedelta(hours=-1), False, False),  # past
    ],
)
def test_reminder_due(planned_in: dt.timedelta, reminded: bool, due: bool) -> None:
    assert rules.reminder_due(NOW + planned_in, NOW, reminded) is due


def _problem(**changes: object) -> AgendaProblem:
    values: dict[str, object] = {
        "problem_id": "p1",
        "title": "Jets de pierres",
        "state": "in_progress",
        "new_count": 0,
        "new_linked_count": 0,
        "actions_late": [],
        "actions_due": [],
        "action_statuses": ["planned"],
    }
    values.update(changes)
    return AgendaProblem(**values)  # type: ignore[arg-type]


def test_agenda_items_problem_by_problem() -> None:
    items = rules.agenda_items(
        [
            _problem(
                new_count=3,
                new_linked_count=1,
                actions_late=[AgendaAction("Patrouilles", "pm-toulouse", D(2026, 3, 1))],
                actions_due=[AgendaAction("Médiation", "tisseo", D(2026, 3, 20))],
            ),
            _problem(problem_id="p2", title="Tags", state="assessment"),
            _problem(problem_id="p3", title="Calme", new_count=0),
        ]
    )
    assert [(i["problem_id"], i["kind"]) for i in items] == [
        ("p1", "new_incidents"),
        ("p1", "actions_late"),
        ("p1", "actions_due"),
        ("p2", "assessment_due"),
    ]
    assert items[0]["text"] == ("3 nouveaux incidents depuis la dernière réunion (dont 1 rattaché)")
    assert items[1]["text"] == "Action en retard : Patrouilles (pm-toulouse, échéance 01/03/2026)"
    assert items[2]["title"] == "Jets de pierres"
    assert set(items[0]) == {"kind", "problem_id", "title", "text"}


@pytest.mark.parametrize(
    ("state", "statuses", "due"),
    [
        ("assessment", [], True),
        ("in_progress", ["done", "cancelled"], True),
        ("in_progress", ["done", "planned"], False),
        ("in_progress", [], False),
        ("analysis", ["done"], False),
    ],
)
def test_assessment_due(state: str, statuses: list[str], due: bool) -> None:
    assert rules.assessment_due(_problem(state=state, action_statuses=statuses)) is due


SHEET = {
    "reported_by": {
        "role": "driver",
        "name": "Bastien Roucayrol",
        "callback_phone": "06 98 76 54 32",
    },
    "victims": [
        {
            "kind": "staff",
            "contact": {"name": "Mireille Vautrin-Lacoste", "email": "m.v@example.org"},
        }
    ],
    "witnesses": [{"name": "Éloïse Ferrand"}],
    "suspects": {"description": "Blouson kaki, tatouage de scorpion"},
    "location": {"address": "12 rue Lafayette", "vehicle_id": "VEH-4471", "stop_id": "SP_1"},
    "narrative": "Récit",
}


def test_redaction_masks_the_sheets_people_and_contacts() -> None:
    terms = rules.personal_terms(rules.sheet_personal_values(SHEET))
    text = (
        "Mme VAUTRIN a été agressée ; M. Roucayrol (06.98.76.54.32) témoigne, "
        "comme eloise ferrand ; joindre m.v@example.org ou +33 6 12 34 56 78. "
        "Bus VEH-4471 au 12 rue Lafayette ; auteur au tatouage de scorpion. "
        "Les patrouilles continuent de 18 h à 2 h."
    )
    masked = rules.redact(text, terms)
    for secret in (
        "VAUTRIN",
        "Roucayrol",
        "06.98.76.54.32",
        "eloise",
        "ferrand",
        "m.v@example.org",
        "+33 6 12 34 56 78",
        "VEH-4471",
        "Lafayette",
        "scorpion",
    ):
        assert secret not in masked, secret
    assert "Les patrouilles continuent de 18 h à 2 h." in masked
    assert masked.count(rules.MASK) >= 9


def test_redaction_leaves_plain_text_alone() -> None:
    text = "Réunion à Capitole : la ligne A, 3 incidents, actions en cours."
    assert rules.redact(text, rules.personal_terms(["Bastien Roucayrol"])) == text
    assert rules.personal_terms(["Li", "Jo Ba"]) == ["Jo Ba"]  # short words alone are kept


def test_the_schemas_speak_the_rules_vocabulary() -> None:
    assert schema.DECISION_KINDS == rules.DECISION_KINDS
    assert schema.EVALUATION_VIEWS == rules.EVALUATION_VIEWS
    assert schema.MEETING_STATUSES == rules.STATUSES
    assert schema.AGENDA_KINDS == rules.AGENDA_KINDS
    assert schema.RHYTHMS == rules.RHYTHMS
