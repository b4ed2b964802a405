"""Before/after figures on hand-made facts: equal windows, priority and severity mixes,
the share with staff victims, the change in %, weeks by Paris day."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.gpo.rules.scope import IncidentFacts
from intake_service.gpo.rules.weekly_figures import (
    bucket_by_week,
    change_pct,
    compare,
    default_weeks,
    default_window_days,
    figures_document,
    week_range,
)

PIVOT = dt.date(2026, 2, 2)  # a Monday


def facts(
    occurred_at: dt.datetime,
    priority: str = "P3",
    severity: str = "none",
    staff: bool = False,
) -> IncidentFacts:
    return IncidentFacts(
        incident_id=f"i-{occurred_at.isoformat()}-{priority}-{severity}-{staff}",
        operator="tisseo",
        service_code="ddsp-31",
        route_id="line:12",
        stop_ids=frozenset({"stop_area:SA_1"}),
        lat=43.6,
        lon=1.44,
        natures=frozenset({"projectile"}),
        occurred_at=occurred_at,
        priority=priority,
        has_staff_victim=staff,
        injury_severity=severity,
    )


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def test_equal_windows_around_the_pivot_count_each_side() -> None:
    window = 14
    sample = [
        facts(at(PIVOT - dt.timedelta(days=15))),  # before the before window
        facts(at(PIVOT - dt.timedelta(days=14)), "P1", "hospitalised", staff=True),
        facts(at(PIVOT - dt.timedelta(days=7)), "P2", "minor", staff=True),
        facts(at(PIVOT - dt.timedelta(days=3)), "P3"),
        facts(at(PIVOT - dt.timedelta(days=1)), "P4"),
        facts(at(PIVOT), "P3", "minor", staff=True),  # the pivot day is "after"
        facts(at(PIVOT + dt.timedelta(days=13)), "P4"),
        facts(at(PIVOT + dt.timedelta(days=14))),  # past the after window
    ]
    result = compare(sample, PIVOT, window, today=PIVOT + dt.timedelta(days=30))
    assert (result.before.start, result.before.end) == (PIVOT - dt.timedelta(days=14), PIVOT)
    assert (result.after.start, result.after.end) == (PIVOT, PIVOT + dt.timedelta(days=14))
    assert result.before.count == 4
    assert result.after.count == 2
    assert result.before.priorities == {"P1": 1, "P2": 1, "P3": 1, "P4": 1}
    assert result.after.priorities == {"P1": 0, "P2": 0, "P3": 1, "P4": 1}
    assert result.before.severities == {
        "none": 2,
        "minor": 1,
        "treated_on_site": 0,
        "hospitalised": 1,
        "life_threatening": 0,
    }
    assert result.before.staff_victims == 2
    assert result.before.staff_share == 0.5
    assert result.after.staff_victims == 1
    assert result.after.staff_share == 0.5
    assert result.count_change_pct == -50.0
    assert result.priority_change_pct["P1"] == -100.0
    assert result.priority_change_pct["P3"] == 0.0
    assert result.staff_share_change_points == 0.0
    assert result.after_elapsed_days == 14


def test_windows_use_paris_days() -> None:
    # 23:30 UTC on Sunday 1 February is 00:30 on Monday 2 February in Paris: after.
    late = dt.datetime(2026, 2, 1, 23, 30, tzinfo=dt.UTC)
    result = compare([facts(late)], PIVOT, 7, today=PIVOT)
    assert (result.before.count, result.after.count) == (0, 1)


def test_changes_without_a_before_are_unknown_not_infinite() -> None:
    result = compare([facts(at(PIVOT))], PIVOT, 7, today=PIVOT + dt.timedelta(days=3))
    assert result.count_change_pct is None
    assert result.before.staff_share is None
    assert result.staff_share_change_points is None
    assert result.after_elapsed_days == 3
    document = figures_document(result)
    assert document["complete"] is False
    assert document["before"]["staff_share_pct"] is None
    # The document shows the last day of each window, inclusive.
    assert document["after"]["end"] == PIVOT + dt.timedelta(days=6)


def test_staff_share_change_in_points() -> None:
    sample = [
        facts(at(PIVOT - dt.timedelta(days=2)), staff=True),
        facts(at(PIVOT - dt.timedelta(days=1)), staff=True),
        facts(at(PIVOT + dt.timedelta(days=1)), staff=True),
        facts(at(PIVOT + dt.timedelta(days=2))),
        facts(at(PIVOT + dt.timedelta(days=3))),
        facts(at(PIVOT + dt.timedelta(days=4))),
    ]
    result = compare(sample, PIVOT, 7, today=PIVOT + dt.timedelta(days=10))
    assert result.before.staff_share == 1.0
    assert result.after.staff_share == 0.25
    assert result.staff_share_change_points == -75.0
    assert result.count_change_pct == 100.0
    assert figures_document(result)["after"]["staff_share_pct"] == 25.0


@pytest.mark.parametrize(
    ("before", "after", "expected"), [(4, 2, -50.0), (3, 4, 33.3), (0, 5, None), (2, 2, 0.0)]
)
def test_change_pct(before: int, after: int, expected: float | None) -> None:
    assert change_pct(before, after) == expected


def test_default_window_is_time_since_pivot_at_least_a_week() -> None:
    assert default_window_days(PIVOT, PIVOT + dt.timedelta(days=30)) == 30
    assert default_window_days(PIVOT, PIVOT + dt.timedelta(days=2)) == 7
    assert default_window_days(PIVOT, PIVOT - dt.timedelta(days=5)) == 7


def test_weeks_are_mondays_and_bucketing_uses_paris_days() -> None:
    weeks = week_range(dt.date(2026, 1, 7), dt.date(2026, 1, 20))
    assert weeks == [dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 19)]
    instants = [
        dt.datetime(2026, 1, 11, 22, 59, tzinfo=dt.UTC),  # Sunday 23:59 in Paris: first week
        dt.datetime(2026, 1, 11, 23, 0, tzinfo=dt.UTC),  # Monday 00:00 in Paris: second
        dt.datetime(2026, 1, 19, 8, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 12, 1, 8, 0, tzinfo=dt.UTC),  # outside: ignored
    ]
    assert bucket_by_week(instants, weeks) == [1, 1, 1]


def test_default_weeks_cover_both_windows_up_to_today() -> None:
    today = PIVOT + dt.timedelta(days=21)
    weeks = default_weeks(PIVOT, None, today)
    assert weeks[0] <= PIVOT - dt.timedelta(days=21)
    assert weeks[-1] == dt.date(2026, 2, 23)
    assert all(week.weekday() == 0 for week in weeks)
    assert len(default_weeks(PIVOT - dt.timedelta(days=900), None, today)) == 52
    assert len(default_weeks(None, None, today)) >= 8
