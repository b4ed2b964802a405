"""Did the response work? A problem's incidents per week, and equal windows before and
after a date.

The figures are aggregates of ``gpo_scope.IncidentFacts`` (no personal data): partners
may read them. The arithmetic is pure (``rules.weekly_figures``); ``weekly_series`` and
``before_after`` read the incidents of a problem (in its scope, from
``incident_facts.in_scope_incidents``; linked, from its confirmed ``ProblemLink`` rows)
and hand them over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal
from intake_service.gpo import incident_facts, problems
from intake_service.gpo.rules import charts
from intake_service.gpo.rules.charts import Marker, WeekCount
from intake_service.gpo.rules.weekly_figures import (
    BeforeAfter,
    bucket_by_week,
    compare,
    default_weeks,
    default_window_days,
    figures_document,
    paris_day,
    paris_midnight,
)
from intake_service.models import Incident, Problem, ProblemAction, ProblemLink

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
        for incident, _ in incident_facts.in_scope_incidents(session, problem, since, until)
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
        [f for _, f in incident_facts.in_scope_incidents(session, problem, since, until)]
        if (since < until)
        else []
    )
    return compare(facts, pivot, window_days, today)


# --- a problem's assessment, for the API and the pages ------------------------------------


@dataclass(frozen=True)
class ProblemAssessment:
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
) -> ProblemAssessment:
    """The weeks and the before/after of a problem of the caller's GPO (aggregates only:
    partners read it too). ``NotFound`` outside the caller's GPO."""
    problem = problems.get_problem(session, principal, problem_id)
    return assessment_of(session, problem, actions_of(session, problem), pivot, window_days, now)


def assessment_of(
    session: Session,
    problem: Problem,
    actions: Sequence[ProblemAction],
    pivot: dt.date | None,
    window_days: int | None,
    now: dt.datetime,
) -> ProblemAssessment:
    """The weeks and the before/after of ``problem``, whose ``actions`` the caller read."""
    comparison = before_after(session, problem, pivot, window_days, now, actions=actions)
    weeks = default_weeks(
        comparison.pivot if comparison else None,
        comparison.window_days if comparison else None,
        paris_day(now),
    )
    return ProblemAssessment(
        problem_id=problem.id,
        title=problem.title,
        weeks=weekly_series(session, problem, weeks, now),
        markers=markers(actions),
        comparison=comparison,
    )


def assessment_document(result: ProblemAssessment) -> dict[str, Any]:
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


def chart(result: ProblemAssessment) -> str:
    """The SVG chart of the weeks, with each action's start."""
    return charts.weekly_chart(
        result.weeks, result.markers, title=f"Incidents par semaine — {result.title}"
    )
