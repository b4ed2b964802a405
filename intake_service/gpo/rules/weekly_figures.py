"""The assessment's arithmetic: Paris weeks, incidents per week, equal windows before
and after a date and their change. Pure: facts in, figures out.

Days are Europe/Paris days: an incident at 23:30 on Sunday in Paris belongs to that
Sunday's week, whatever its UTC date.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from intake_service.platform.clock import PARIS

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
