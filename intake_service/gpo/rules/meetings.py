"""GPO meetings' rules: the next date from the rhythm, the agenda from the brief, the
minutes' redaction for the partners. Pure: facts in, decisions out.

- **Next date.** ``fortnightly``: 14 days after the last meeting held; ``monthly``: the
  same weekday of the month (the 2nd Tuesday → the 2nd Tuesday of the next month), or,
  when the next month has no such weekday (a 5th Thursday), the same day one month
  later (clamped to the month's end); ``dates``: no proposal, each meeting is planned
  by hand. A proposal in the past steps on by the rhythm until it reaches today.
- **Agenda.** Per problem of the brief, in the brief's order: its new incidents since
  the last meeting, its late actions, its actions due, whether its assessment is due
  (the problem is in ``assessment``, or ``in_progress`` with every action finished).
  Titles, counts and the actions' own wording only: never an incident's detail.
- **Redaction.** The partners' minutes carry the referent's texts with what can name a
  person masked: e-mail addresses, phone numbers, and every personal value of the
  sheets of the incidents discussed (names of victims, reporters; suspects'
  descriptions; addresses; vehicles), each name also word by word.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

RHYTHMS = ("fortnightly", "monthly", "dates")
STATUSES = ("planned", "held", "skipped", "cancelled")
# A planned meeting may be held, skipped or cancelled; the others are final.
FINAL_STATUSES = frozenset({"held", "skipped", "cancelled"})
DECISION_KINDS = ("note", "action_created", "action_changed", "state_changed")
EVALUATION_VIEWS = ("resolved", "improved", "not_resolved")
AGENDA_KINDS = ("new_incidents", "actions_late", "actions_due", "assessment_due")
FINISHED_ACTIONS = frozenset({"done", "cancelled"})
# The reminder goes this long before the meeting (once).
REMINDER_BEFORE = dt.timedelta(hours=48)
MASK = "[masqué]"
# A name's words shorter than this are not masked alone (« de », « Le »).
MIN_WORD = 4


# --- the next date ------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _next_month_same_weekday(day: dt.date) -> dt.date:
    """The same weekday of the month one month on (2nd Tuesday → 2nd Tuesday), else the
    same day number one month on."""
    ordinal = (day.day - 1) // 7  # 0 for the first such weekday of the month
    first = _add_months(day.replace(day=1), 1)
    offset = (day.weekday() - first.weekday()) % 7
    candidate = first.day + offset + 7 * ordinal
    if candidate <= calendar.monthrange(first.year, first.month)[1]:
        return first.replace(day=candidate)
    return _add_months(day, 1)


def step(rhythm: str, day: dt.date) -> dt.date | None:
    """The meeting after one on ``day`` by ``rhythm`` (None for ``dates``)."""
    if rhythm == "fortnightly":
        return day + dt.timedelta(days=14)
    if rhythm == "monthly":
        return _next_month_same_weekday(day)
    if rhythm == "dates":
        return None
    raise ValueError(f"unknown rhythm {rhythm!r}")


def next_meeting_day(rhythm: str, last_held: dt.date | None, today: dt.date) -> dt.date | None:
    """The day to propose for the next meeting: by the rhythm from the last meeting held,
    stepped on until it is not in the past; None without a rhythm or a meeting held."""
    if last_held is None:
        return None
    day = step(rhythm, last_held)
    while day is not None and day < today:
        day = step(rhythm, day)
    return day


def reminder_due(planned_at: dt.datetime, now: dt.datetime, reminded: bool) -> bool:
    """Whether the referent's reminder of a planned meeting is to be sent now."""
    return not reminded and now < planned_at <= now + REMINDER_BEFORE


# --- the agenda ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaAction:
    what: str
    owner_partner: str
    due_on: dt.date | None


@dataclass(frozen=True)
class AgendaProblem:
    """What the agenda needs of a problem of the brief (aggregates and titles)."""

    problem_id: str
    title: str
    state: str
    new_count: int
    new_linked_count: int
    actions_late: Sequence[AgendaAction]
    actions_due: Sequence[AgendaAction]
    # The statuses of all the problem's actions (for "assessment due").
    action_statuses: Sequence[str]


def _day(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day is not None else "sans échéance"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def assessment_due(problem: AgendaProblem) -> bool:
    if problem.state == "assessment":
        return True
    return (
        problem.state == "in_progress"
        and bool(problem.action_statuses)
        and all(status in FINISHED_ACTIONS for status in problem.action_statuses)
    )


def agenda_items(problems: Iterable[AgendaProblem]) -> list[dict[str, Any]]:
    """The agenda: items ``{kind, problem_id, title, text}``, problem by problem."""
    items: list[dict[str, Any]] = []

    def add(problem: AgendaProblem, kind: str, text: str) -> None:
        items.append(
            {"kind": kind, "problem_id": problem.problem_id, "title": problem.title, "text": text}
        )

    for problem in problems:
        if problem.new_count:
            add(
                problem,
                "new_incidents",
                _plural(
                    problem.new_count,
                    "nouvel incident depuis la dernière réunion",
                    "nouveaux incidents depuis la dernière réunion",
                )
                + f" (dont {problem.new_linked_count} rattaché"
                + ("s)" if problem.new_linked_count > 1 else ")"),
            )
        for action in problem.actions_late:
            add(
                problem,
                "actions_late",
                f"Action en retard : {action.what} ({action.owner_partner}, "
                f"échéance {_day(action.due_on)})",
            )
        for action in problem.actions_due:
            add(
                problem,
                "actions_due",
                f"Action à échéance : {action.what} ({action.owner_partner}, "
                f"échéance {_day(action.due_on)})",
            )
        if assessment_due(problem):
            add(
                problem,
                "assessment_due",
                "Évaluation à faire : résolu, amélioré ou non résolu ? (avis des partenaires)",
            )
    return items


# --- redaction ----------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# French numbers written in any usual way (06 12 34 56 78, 06.12.34.56.78, +33 6 12…).
PHONE = re.compile(r"(?<!\w)(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\w)")


def _fold(text: str) -> str:
    """Lowercase without accents, same length as ``text`` (a mask's span maps back)."""
    return "".join(
        (unicodedata.normalize("NFD", ch)[0] if ch.isalpha() else ch).casefold()[:1] or ch
        for ch in text
    )


def personal_terms(values: Iterable[str]) -> list[str]:
    """The strings to mask for these personal values: each value, and each of its words
    long enough to name someone; longest first (so a whole name goes before its parts)."""
    terms: set[str] = set()
    for value in values:
        value = " ".join(str(value).split())
        if len(value) < MIN_WORD:
            continue
        terms.add(value)
        for word in re.split(r"[\s\-'’,;:()]+", value):
            if len(word) >= MIN_WORD and not word.isdigit():
                terms.add(word)
    return sorted(terms, key=lambda term: (-len(term), term))


def redact(text: str, terms: Sequence[str]) -> str:
    """``text`` with e-mails, phone numbers and ``terms`` (``personal_terms``) masked,
    whatever their case or accents."""
    text = EMAIL.sub(MASK, text)
    text = PHONE.sub(MASK, text)
    for term in terms:
        folded, wanted = _fold(text), _fold(term)
        found = folded.find(wanted)
        while found != -1:
            text = text[:found] + MASK + text[found + len(term) :]
            folded = _fold(text)
            found = folded.find(wanted, found + len(MASK))
    return text


def sheet_personal_values(sheet: dict[str, Any]) -> list[str]:
    """The personal values a sheet holds that a partner must never read: the reporter's
    name and phone, the victims' and witnesses' contacts, the suspects' description,
    the address and the vehicle."""
    values: list[Any] = []
    reporter = sheet.get("reported_by") or {}
    values += [reporter.get("name"), reporter.get("callback_phone")]
    for person in [*(sheet.get("victims") or []), *(sheet.get("witnesses") or [])]:
        if isinstance(person, dict):
            contact = person.get("contact") or {}
            values += [contact.get("name"), contact.get("phone"), contact.get("email")]
            values += [person.get("name"), person.get("phone"), person.get("email")]
    suspects = sheet.get("suspects") or {}
    values.append(suspects.get("description"))
    location = sheet.get("location") or {}
    values += [location.get("address"), location.get("vehicle_id")]
    return [str(value) for value in values if isinstance(value, str) and value.strip()]
