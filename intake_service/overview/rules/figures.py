"""The national view's arithmetic: periods, medians, shares, the problems' outcomes,
whether a GPO kept its meeting rhythm and is active. Pure: facts in, figures out.

Days are Europe/Paris days. A period is whole days, both ends included, turned into
the UTC instants ``[since, until)``.

**How the problem lifecycle maps to the figures** (``gpo/rules/lifecycle.py``):

- *identified*: problems created in the period;
- *in progress*: problems created before the period's end whose state at that end
  (the last state change of their journal up to it) is one of ``IN_PROGRESS_STATES``:
  signalled, qualified, analysed, with an action plan, worked on or being assessed;
  a watched problem reopened by a new incident is back in analysis, so in progress;
- *resolved*, *improved*, *not resolved*, *abandoned*, *out of scope*: problems with a
  state change to that state in the period (each problem once per outcome). A
  ``not_resolved`` assessment is a passing state (the problem goes back to analysis):
  only the journal knows it, which is why outcomes are counted from state changes, not
  from the current state. ``closed`` and ``watch`` follow a resolved or improved
  problem and are not outcomes of their own;
- *median time to resolve*: over the problems whose first change to ``resolved`` falls
  in the period, the days from their creation to it.

**Meetings** are counted as the Paris days a GPO met: a ``gpo_meetings`` row held
(its ``held_at``, else its planned date), and the meeting entries of its problems'
journals (how meetings were recorded before they were first-class, and what the
brief still reads); one day counts once, however many problems' journals name it.

**Rhythm kept**: no gap longer than the rhythm's (fortnightly 14 days, monthly 31)
plus ``RHYTHM_TOLERANCE_DAYS`` between the start of the observed span, each meeting
day and the span's end. A GPO without a rhythm (``dates``) has none to keep (None).

**Active**: a meeting day in the ``ACTIVE_DAYS`` days up to the period's end (or
today, when the period runs on).
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from intake_service.gpo.rules.lifecycle import add_months
from intake_service.platform.clock import PARIS

DEFAULT_MONTHS = 12
MAX_DAYS = 3 * 366
ACTIVE_DAYS = 60
RHYTHM_TOLERANCE_DAYS = 3
RHYTHM_MAX_GAP_DAYS = {"fortnightly": 14, "monthly": 31}

IN_PROGRESS_STATES = frozenset(
    {"reported", "qualified", "analysis", "action_plan", "in_progress", "assessment"}
)
OUTCOMES = ("resolved", "improved", "not_resolved", "abandoned", "out_of_scope")


# --- periods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole Paris days, ``first`` to ``last`` included."""

    first: dt.date
    last: dt.date

    @property
    def since(self) -> dt.datetime:
        return paris_midnight(self.first)

    @property
    def until(self) -> dt.datetime:
        """Exclusive: the midnight after ``last``."""
        return paris_midnight(self.last + dt.timedelta(days=1))

    def months(self) -> list[tuple[int, int]]:
        """The (year, month) the period touches, in order."""
        found = []
        year, month = self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            found.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


def paris_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=PARIS).astimezone(dt.UTC)


def paris_day(moment: dt.datetime) -> dt.date:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(PARIS).date()


def default_period(today: dt.date) -> Period:
    """The 12 calendar months up to today: the current month and the 11 before it."""
    first_of_month = today.replace(day=1)
    start = add_months(dt.datetime.combine(first_of_month, dt.time()), -(DEFAULT_MONTHS - 1)).date()
    return Period(start, today)


def period_of(first: dt.date | None, last: dt.date | None, today: dt.date) -> Period:
    """The asked period: ``last`` defaults to today, ``first`` to the default period's
    start for that end. ``period_errors`` says whether it can be used."""
    last = last or today
    return Period(first or default_period(last).first, last)


def period_errors(period: Period) -> dict[str, str]:
    """Why the period cannot be used, by field (``from``, ``to``); empty when it can."""
    if period.last < period.first:
        return {"to": "The end is before the start (from)."}
    if (period.last - period.first).days >= MAX_DAYS:
        return {"to": f"At most {MAX_DAYS} days at once."}
    return {}


def month_key(moment: dt.datetime) -> str:
    """``YYYY-MM`` of the Paris day of ``moment``."""
    day = paris_day(moment)
    return f"{day.year:04d}-{day.month:02d}"


# --- numbers ------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float | None:
    """The median, rounded to a tenth; None for no value."""
    found = list(values)
    return round(float(statistics.median(found)), 1) if found else None


def share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to three decimals; None when there is no whole."""
    return round(part / whole, 3) if whole else None


# --- problems -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemHistory:
    """A problem as the figures see it: when it was created and each state it went to
    (the journal's state changes, the creation's included), oldest first."""

    created_at: dt.datetime
    steps: Sequence[tuple[dt.datetime, str]]


@dataclass(frozen=True)
class ProblemFigures:
    identified: int
    in_progress: int
    outcomes: dict[str, int]
    median_days_to_resolve: float | None
    # The durations the median is taken over (a département's median is over its GPOs').
    days_to_resolve: tuple[float, ...]
    # "YYYY-MM" → problems identified that month, and resolved that month (the first
    # change to ``resolved`` of each problem in the period).
    identified_by_month: dict[str, int]
    resolved_by_month: dict[str, int]


def state_at(history: ProblemHistory, moment: dt.datetime) -> str | None:
    """The state the problem was in just before ``moment``; None if not created yet."""
    if history.created_at >= moment:
        return None
    state: str | None = None
    for at, to in history.steps:
        if at >= moment:
            break
        state = to
    return state


def problem_figures(histories: Iterable[ProblemHistory], period: Period) -> ProblemFigures:
    """The problems' figures over the period (see the module's mapping)."""
    since, until = period.since, period.until
    identified = in_progress = 0
    outcomes = dict.fromkeys(OUTCOMES, 0)
    durations: list[float] = []
    created: list[dt.datetime] = []
    resolved: list[dt.datetime] = []
    for history in histories:
        if since <= history.created_at < until:
            identified += 1
            created.append(history.created_at)
        if state_at(history, until) in IN_PROGRESS_STATES:
            in_progress += 1
        reached = {to for at, to in history.steps if since <= at < until and to in outcomes}
        for outcome in reached:
            outcomes[outcome] += 1
        resolved_in = [at for at, to in history.steps if to == "resolved" and since <= at < until]
        if resolved_in:
            resolved.append(resolved_in[0])
        first_resolved = next((at for at, to in history.steps if to == "resolved"), None)
        if first_resolved is not None and since <= first_resolved < until:
            durations.append((first_resolved - history.created_at).total_seconds() / 86400)
    months = period.months()
    return ProblemFigures(
        identified=identified,
        in_progress=in_progress,
        outcomes=outcomes,
        median_days_to_resolve=median(durations),
        days_to_resolve=tuple(durations),
        identified_by_month=monthly_counts(created, months),
        resolved_by_month=monthly_counts(resolved, months),
    )


# --- meetings -----------------------------------------------------------------------------


def rhythm_kept(
    rhythm: str, meeting_days: Iterable[dt.date], start: dt.date, end: dt.date
) -> bool | None:
    """Whether meetings kept ``rhythm`` from ``start`` to ``end`` (see the module).

    None for a GPO with no rhythm (``dates``) or a span that is not one yet.
    """
    max_gap = RHYTHM_MAX_GAP_DAYS.get(rhythm)
    if max_gap is None or end < start:
        return None
    days = sorted({day for day in meeting_days if start <= day <= end})
    marks = [start, *days, end]
    allowed = max_gap + RHYTHM_TOLERANCE_DAYS
    return all((later - earlier).days <= allowed for earlier, later in itertools.pairwise(marks))


def is_active(meeting_days: Iterable[dt.date], on: dt.date) -> bool:
    """A meeting in the ``ACTIVE_DAYS`` days up to ``on`` (included)."""
    return any(0 <= (on - day).days < ACTIVE_DAYS for day in meeting_days)


# --- incidents ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFact:
    """What the overview counts of an incident: no id, no place, no person."""

    occurred_at: dt.datetime
    priority: str
    family: str
    staff_victims: int


@dataclass(frozen=True)
class IncidentFigures:
    count: int
    by_family: dict[str, int]
    # "YYYY-MM" → family → count, every month of the period present.
    by_month: dict[str, dict[str, int]]
    staff_victim_incidents: int
    staff_victims: int
    p1_p2: int
    share_p1_p2: float | None


def incident_figures(
    facts: Iterable[IncidentFact], months: Sequence[tuple[int, int]], families: Sequence[str]
) -> IncidentFigures:
    keys = [f"{year:04d}-{month:02d}" for year, month in months]
    by_month = {key: dict.fromkeys(families, 0) for key in keys}
    by_family = dict.fromkeys(families, 0)
    count = staff_incidents = staff = urgent = 0
    for fact in facts:
        count += 1
        by_family[fact.family] = by_family.get(fact.family, 0) + 1
        month = by_month.setdefault(month_key(fact.occurred_at), dict.fromkeys(families, 0))
        month[fact.family] = month.get(fact.family, 0) + 1
        staff += fact.staff_victims
        staff_incidents += fact.staff_victims > 0
        urgent += fact.priority in ("P1", "P2")
    return IncidentFigures(
        count=count,
        by_family=by_family,
        by_month=by_month,
        staff_victim_incidents=staff_incidents,
        staff_victims=staff,
        p1_p2=urgent,
        share_p1_p2=share(urgent, count),
    )


def monthly_counts(
    moments: Iterable[dt.datetime], months: Sequence[tuple[int, int]]
) -> dict[str, int]:
    """How many of ``moments`` fall in each month of the period (Paris days)."""
    counts = {f"{year:04d}-{month:02d}": 0 for year, month in months}
    for moment in moments:
        key = month_key(moment)
        if key in counts:
            counts[key] += 1
    return counts
