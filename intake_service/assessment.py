"""Did the response work? Incidents per week, and equal windows before and after a date.

The figures are aggregates of ``gpo_scope.IncidentFacts`` (no personal data): partners
may read them. ``compare`` and ``bucket_by_week`` are pure and tested on hand-made
facts; ``weekly_series`` and ``before_after`` read the incidents of a problem (in its
scope, from ``linking.in_scope_incidents``; linked, from its confirmed ``ProblemLink``
rows) and hand them over.

Days are Europe/Paris days: an incident at 23:30 on Sunday in Paris belongs to that
Sunday's week, whatever its UTC date.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service import charts, linking, problems
from intake_service.access import Principal
from intake_service.charts import Marker, WeekCount
from intake_service.models import Incident, Problem, ProblemAction, ProblemLink

PARIS = ZoneInfo("Europe/Paris")
PRIORITIES = ("P1", "P2", "P3", "P4")
SEVERITIES = ("none", "minor", "treated_on_site", "hospitalised", "life_threatening")
MIN_WINDOW_DAYS = 7
MAX_WEEKS = 52
MIN_WEEKS = 8


class Facts(Protocol):
    """What the figures need of an incident (``gpo_scope.IncidentFacts`` has it)."""

    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def priority(self) -> str: ...
    @property
    def has_staff_victim(self) -> bool: ...
    @property
    def injury_severity(self) -> str: ...


# --- pure ---------------------------------------------------------------------------------


def paris_day(moment: dt.datetime) -> dt.date:
    """The Paris calendar day of a UTC instant."""
    return moment.astimezone(PARIS).date()


def paris_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant at which ``day`` starts in Paris."""
    return dt.datetime.combine(day, dt.time(), tzinfo=PARIS).astimezone(dt.UTC)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """The Mondays from ``first``'s week to ``last``'s, both included."""
    start, end = monday_of(first), monday_of(last)
    return [start + dt.timedelta(weeks=n) for n in range((end - start).days // 7 + 1)]


def bucket_by_week(instants: Iterable[dt.datetime], weeks: Sequence[dt.date]) -> list[int]:
    """How many of ``instants`` fall in each week (Mondays), by Paris day."""
    index = {week: n for n, week in enumerate(weeks)}
    counts = [0] * len(weeks)
    for moment in instants:
        slot = index.get(monday_of(paris_day(moment)))
        if slot is not None:
            counts[slot] += 1
    return counts


@dataclass(frozen=True)
class WindowFigures:
    """One window's incidents: how many, how serious, how many with staff victims."""

    start: dt.date
    # Exclusive.
    end: dt.date
    count: int
    priorities: dict[str, int]
    severities: dict[str, int]
    staff_victims: int

    @property
    def staff_share(self) -> float | None:
        """The share (0..1) of incidents with a staff victim; None without incidents."""
        return self.staff_victims / self.count if self.count else None


@dataclass(frozen=True)
class BeforeAfter:
    pivot: dt.date
    window_days: int
    before: WindowFigures
    after: WindowFigures
    # How many days of the after window have elapsed (< window_days: still running).
    after_elapsed_days: int

    @property
    def count_change_pct(self) -> float | None:
        return change_pct(self.before.count, self.after.count)

    @property
    def priority_change_pct(self) -> dict[str, float | None]:
        return {
            p: change_pct(self.before.priorities[p], self.after.priorities[p]) for p in PRIORITIES
        }

    @property
    def severity_change_pct(self) -> dict[str, float | None]:
        return {
            s: change_pct(self.before.severities[s], self.after.severities[s]) for s in SEVERITIES
        }

    @property
    def staff_victims_change_pct(self) -> float | None:
        return change_pct(self.before.staff_victims, self.after.staff_victims)

    @property
    def staff_share_change_points(self) -> float | None:
        """The change of the staff-victim share, in percentage points."""
        if self.before.staff_share is None or self.after.staff_share is None:
            return None
        return round(100 * (self.after.staff_share - self.before.staff_share), 1)


def change_pct(before: int, after: int) -> float | None:
    """The change from ``before`` to ``after`` in %, one decimal; None when before is 0."""
    if before == 0:
        return None
    return round(100 * (after - before) / before, 1)


def window_figures(facts: Iterable[Facts], start: dt.date, end: dt.date) -> WindowFigures:
    """The figures of the incidents whose Paris day is in [start, end)."""
    inside = [f for f in facts if start <= paris_day(f.occurred_at) < end]
    priorities = Counter(f.priority for f in inside)
    severities = Counter(f.injury_severity for f in inside)
    return WindowFigures(
        start=start,
        end=end,
        count=len(inside),
        priorities={p: priorities.get(p, 0) for p in PRIORITIES},
        severities={s: severities.get(s, 0) for s in SEVERITIES},
        staff_victims=sum(1 for f in inside if f.has_staff_victim),
    )


def default_window_days(pivot: dt.date, today: dt.date) -> int:
    """The time elapsed since the pivot, at least a week."""
    return max(MIN_WINDOW_DAYS, (today - pivot).days)


def compare(
    facts: Sequence[Facts], pivot: dt.date, window_days: int, today: dt.date
) -> BeforeAfter:
    """Equal windows: [pivot - window_days, pivot) before, [pivot, pivot + window_days) after."""
    span = dt.timedelta(days=window_days)
    return BeforeAfter(
        pivot=pivot,
        window_days=window_days,
        before=window_figures(facts, pivot - span, pivot),
        after=window_figures(facts, pivot, pivot + span),
        after_elapsed_days=max(0, min(window_days, (today - pivot).days)),
    )


def figures_document(result: BeforeAfter) -> dict[str, Any]:
    """The comparison as the API and the pages show it."""

    def window(figures: WindowFigures) -> dict[str, Any]:
        share = figures.staff_share
        return {
            "start": figures.start,
            "end": figures.end - dt.timedelta(days=1),
            "count": figures.count,
            "priorities": figures.priorities,
            "severities": figures.severities,
            "staff_victims": figures.staff_victims,
            "staff_share_pct": None if share is None else round(100 * share, 1),
        }

    return {
        "pivot": result.pivot,
        "window_days": result.window_days,
        "after_elapsed_days": result.after_elapsed_days,
        "complete": result.after_elapsed_days >= result.window_days,
        "before": window(result.before),
        "after": window(result.after),
        "change": {
            "count_pct": result.count_change_pct,
            "priorities_pct": result.priority_change_pct,
            "severities_pct": result.severity_change_pct,
            "staff_victims_pct": result.staff_victims_change_pct,
            "staff_share_points": result.staff_share_change_points,
        },
    }


# --- reading a problem's incidents ---------------------------------------------------------


def actions_of(session: Session, problem: Problem) -> list[ProblemAction]:
    return list(
        session.scalars(
            select(ProblemAction)
            .where(ProblemAction.problem_id == problem.id)
            .order_by(ProblemAction.starts_on, ProblemAction.id)
        )
    )


def markers(actions: Iterable[ProblemAction]) -> list[Marker]:
    """Each action that has a start date (a cancelled one did not happen)."""
    return [
        Marker(on=a.starts_on, label=a.what)
        for a in actions
        if a.starts_on is not None and a.status != "cancelled"
    ]


def default_pivot(actions: Iterable[ProblemAction]) -> dt.date | None:
    """The earliest start of an action (not cancelled), or None."""
    starts = [m.on for m in markers(actions)]
    return min(starts) if starts else None


def linked_incidents(
    session: Session, problem: Problem, since: dt.datetime, until: dt.datetime
) -> list[Incident]:
    """The incidents confirmed as the problem's, occurred in [since, until)."""
    return list(
        session.scalars(
            select(Incident)
            .join(ProblemLink, ProblemLink.incident_id == Incident.id)
            .where(
                ProblemLink.problem_id == problem.id,
                ProblemLink.state == "confirmed",
                # Withdrawn: sent by mistake, as for the incidents in scope.
                Incident.status != "withdrawn",
                Incident.occurred_at >= since,
                Incident.occurred_at < until,
            )
            .order_by(Incident.occurred_at)
        )
    )


def default_weeks(pivot: dt.date | None, window_days: int | None, today: dt.date) -> list[dt.date]:
    """The weeks a chart shows: both windows around the pivot up to today, 8 to 52 weeks."""
    last = today
    if pivot is None:
        first = today - dt.timedelta(weeks=MIN_WEEKS * 2)
    else:
        span = dt.timedelta(days=window_days or default_window_days(pivot, today))
        first = min(pivot - span, today - dt.timedelta(weeks=MIN_WEEKS - 1))
        last = min(max(pivot + span, today), today)
    weeks = week_range(first, last)
    return weeks[-MAX_WEEKS:]


def weekly_series(
    session: Session, problem: Problem, weeks: Sequence[dt.date], now: dt.datetime
) -> list[WeekCount]:
    """Per week (Monday): the incidents in the problem's scope, and those linked to it."""
    if not weeks:
        return []
    since = paris_midnight(weeks[0])
    until = min(paris_midnight(weeks[-1] + dt.timedelta(weeks=1)), now)
    in_scope = [
        incident.occurred_at
        for incident, _ in linking.in_scope_incidents(session, problem, since, until)
    ]
    linked = [incident.occurred_at for incident in linked_incidents(session, problem, since, until)]
    return [
        WeekCount(week=week, in_scope=scope_count, linked=link_count)
        for week, scope_count, link_count in zip(
            weeks, bucket_by_week(in_scope, weeks), bucket_by_week(linked, weeks), strict=True
        )
    ]


def before_after(
    session: Session,
    problem: Problem,
    pivot: dt.date | None,
    window_days: int | None,
    now: dt.datetime,
    *,
    actions: Sequence[ProblemAction] | None = None,
) -> BeforeAfter | None:
    """The in-scope incidents of equal windows around ``pivot``.

    ``pivot`` defaults to the earliest action start (None is returned when there is
    none); ``window_days`` to the time elapsed since the pivot (at least 7 days).
    ``actions``: the problem's, when the caller has read them already.
    """
    today = paris_day(now)
    if pivot is None:
        pivot = default_pivot(actions_of(session, problem) if actions is None else actions)
        if pivot is None:
            return None
    if window_days is None:
        window_days = default_window_days(pivot, today)
    span = dt.timedelta(days=window_days)
    since = paris_midnight(pivot - span)
    until = min(paris_midnight(pivot + span), now)
    facts = (
        [f for _, f in linking.in_scope_incidents(session, problem, since, until)]
        if (since < until)
        else []
    )
    return compare(facts, pivot, window_days, today)


# --- a problem's assessment, for the API and the pages ------------------------------------


@dataclass(frozen=True)
class Assessment:
    problem_id: str
    title: str
    weeks: list[WeekCount]
    markers: list[Marker]
    comparison: BeforeAfter | None


def problem_assessment(
    session: Session,
    principal: Principal,
    problem_id: str,
    pivot: dt.date | None,
    window_days: int | None,
    now: dt.datetime,
) -> Assessment:
    """The weeks and the before/after of a problem of the caller's GPO (aggregates only:
    partners read it too). ``problems.NotFound`` outside the caller's GPO."""
    problem = problems.get_problem(session, principal, problem_id)
    return assessment_of(session, problem, actions_of(session, problem), pivot, window_days, now)


def assessment_of(
    session: Session,
    problem: Problem,
    actions: Sequence[ProblemAction],
    pivot: dt.date | None,
    window_days: int | None,
    now: dt.datetime,
) -> Assessment:
    """The weeks and the before/after of ``problem``, whose ``actions`` the caller read."""
    comparison = before_after(session, problem, pivot, window_days, now, actions=actions)
    weeks = default_weeks(
        comparison.pivot if comparison else None,
        comparison.window_days if comparison else None,
        paris_day(now),
    )
    return Assessment(
        problem_id=problem.id,
        title=problem.title,
        weeks=weekly_series(session, problem, weeks, now),
        markers=markers(actions),
        comparison=comparison,
    )


def assessment_document(result: Assessment) -> dict[str, Any]:
    return {
        "problem_id": result.problem_id,
        "title": result.title,
        "weeks": [
            {"week": w.week, "in_scope": w.in_scope, "linked": w.linked} for w in result.weeks
        ],
        "markers": [{"on": m.on, "label": m.label} for m in result.markers],
        "before_after": (
            figures_document(result.comparison) if result.comparison is not None else None
        ),
    }


def chart(result: Assessment) -> str:
    """The SVG chart of the weeks, with each action's start."""
    return charts.weekly_chart(
        result.weeks, result.markers, title=f"Incidents par semaine — {result.title}"
    )
