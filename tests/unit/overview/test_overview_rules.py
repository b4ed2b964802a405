"""The national view's rules as tables: periods, rhythm kept, active, problem outcomes,
incident figures, the hotspots' hours of the week and the charts."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from intake_service.overview.rules import charts, figures, hotspots
from intake_service.overview.rules.figures import IncidentFact, Period, ProblemHistory
from intake_service.platform.clock import PARIS

D = dt.date


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# --- periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "today", "expected"),
    [
        (None, None, D(2026, 3, 14), Period(D(2025, 4, 1), D(2026, 3, 14))),
        (None, None, D(2026, 1, 31), Period(D(2025, 2, 1), D(2026, 1, 31))),
        (None, D(2025, 12, 31), D(2026, 3, 14), Period(D(2025, 1, 1), D(2025, 12, 31))),
        (D(2026, 1, 5), None, D(2026, 3, 14), Period(D(2026, 1, 5), D(2026, 3, 14))),
        (D(2026, 1, 5), D(2026, 1, 5), D(2026, 3, 14), Period(D(2026, 1, 5), D(2026, 1, 5))),
    ],
)
def test_period_of(first: D | None, last: D | None, today: D, expected: Period) -> None:
    assert figures.period_of(first, last, today) == expected


@pytest.mark.parametrize(
    ("period", "errors"),
    [
        (Period(D(2026, 1, 1), D(2026, 1, 1)), set()),
        (Period(D(2026, 1, 2), D(2026, 1, 1)), {"to"}),
        (Period(D(2023, 1, 1), D(2026, 1, 1)), set()),  # 1096 days: under 3 × 366
        (Period(D(2023, 1, 1), D(2026, 1, 4)), {"to"}),
    ],
)
def test_period_errors(period: Period, errors: set[str]) -> None:
    assert set(figures.period_errors(period)) == errors


def test_period_bounds_are_paris_midnights_and_months() -> None:
    period = Period(D(2026, 3, 1), D(2026, 3, 31))
    assert period.since == utc("2026-02-28T23:00:00")  # winter time
    assert period.until == utc("2026-03-31T22:00:00")  # summer time
    assert Period(D(2025, 11, 15), D(2026, 2, 1)).months() == [
        (2025, 11),
        (2025, 12),
        (2026, 1),
        (2026, 2),
    ]
    # 23:30 UTC on 31 December is the 1st of January in Paris.
    assert figures.month_key(utc("2025-12-31T23:30:00")) == "2026-01"


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"), [([], None), ([3.0], 3.0), ([1, 2, 10], 2.0), ([1, 2], 1.5)]
)
def test_median(values: list[float], expected: float | None) -> None:
    assert figures.median(values) == expected


@pytest.mark.parametrize(("part", "whole", "expected"), [(0, 0, None), (1, 3, 0.333), (2, 2, 1.0)])
def test_share(part: int, whole: int, expected: float | None) -> None:
    assert figures.share(part, whole) == expected


# --- meetings --------------------------------------------------------------------------------

START, END = D(2026, 1, 1), D(2026, 3, 31)


@pytest.mark.parametrize(
    ("rhythm", "days", "kept"),
    [
        # Fortnightly: 14 days + 3 of tolerance between the marks, edges included.
        (
            "fortnightly",
            [D(2026, 1, 15), D(2026, 2, 1), D(2026, 2, 18), D(2026, 3, 7), D(2026, 3, 24)],
            True,
        ),
        (
            "fortnightly",
            [D(2026, 1, 18), D(2026, 2, 4), D(2026, 2, 21), D(2026, 3, 10), D(2026, 3, 27)],
            True,
        ),
        # A gap of 18 days at the start.
        (
            "fortnightly",
            [D(2026, 1, 19), D(2026, 2, 4), D(2026, 2, 21), D(2026, 3, 10), D(2026, 3, 27)],
            False,
        ),
        # The last meeting too long before the end.
        ("fortnightly", [D(2026, 1, 15), D(2026, 2, 1), D(2026, 2, 18), D(2026, 3, 7)], False),
        ("fortnightly", [], False),
        # Monthly: 31 + 3 days.
        ("monthly", [D(2026, 2, 4), D(2026, 3, 10)], True),
        ("monthly", [D(2026, 2, 5), D(2026, 3, 10)], False),
        ("monthly", [D(2026, 1, 20), D(2026, 2, 25)], False),
        # Meetings outside the span do not help.
        ("monthly", [D(2025, 12, 31), D(2026, 2, 4), D(2026, 3, 10), D(2026, 4, 1)], True),
        # No rhythm to keep.
        ("dates", [D(2026, 2, 1)], None),
    ],
)
def test_rhythm_kept(rhythm: str, days: list[D], kept: bool | None) -> None:
    assert figures.rhythm_kept(rhythm, days, START, END) is kept


def test_rhythm_of_a_span_not_begun() -> None:
    assert figures.rhythm_kept("monthly", [], D(2026, 4, 1), D(2026, 3, 31)) is None


@pytest.mark.parametrize(
    ("days", "on", "active"),
    [
        ([D(2026, 3, 14)], D(2026, 3, 14), True),
        ([D(2026, 1, 14)], D(2026, 3, 14), True),  # 59 days before
        ([D(2026, 1, 13)], D(2026, 3, 14), False),  # 60 days before
        ([D(2026, 3, 20)], D(2026, 3, 14), False),  # after the day
        ([], D(2026, 3, 14), False),
    ],
)
def test_is_active(days: list[D], on: D, active: bool) -> None:
    assert figures.is_active(days, on) is active


# --- problems --------------------------------------------------------------------------------


def history(created: str, *steps: tuple[str, str]) -> ProblemHistory:
    return ProblemHistory(utc(created), tuple((utc(at), to) for at, to in steps))


PERIOD = Period(D(2026, 1, 1), D(2026, 1, 31))


def test_problem_outcomes_come_from_the_state_changes() -> None:
    problems = [
        # Identified, assessed not resolved (back to analysis): in progress at the end.
        history(
            "2026-01-02T10:00:00",
            ("2026-01-02T10:00:00", "reported"),
            ("2026-01-10T10:00:00", "not_resolved"),
            ("2026-01-10T10:00:00", "analysis"),
        ),
        # Created before, resolved in the period in 30 days, then closed.
        history(
            "2025-12-12T10:00:00",
            ("2025-12-12T10:00:00", "reported"),
            ("2026-01-11T10:00:00", "resolved"),
            ("2026-01-20T10:00:00", "closed"),
            ("2026-01-20T10:00:00", "watch"),
        ),
        # Abandoned after the period: in progress at its end.
        history(
            "2026-01-05T10:00:00",
            ("2026-01-05T10:00:00", "reported"),
            ("2026-02-03T10:00:00", "abandoned"),
        ),
        # Created after the period: nothing.
        history("2026-02-05T10:00:00", ("2026-02-05T10:00:00", "reported")),
        # Resolved twice (reopened in between): counted once, median from the first.
        history(
            "2025-11-01T10:00:00",
            ("2025-11-01T10:00:00", "reported"),
            ("2025-12-01T10:00:00", "resolved"),
            ("2026-01-15T10:00:00", "analysis"),
            ("2026-01-25T10:00:00", "resolved"),
        ),
    ]
    found = figures.problem_figures(problems, PERIOD)
    assert found.identified == 2
    assert found.in_progress == 2
    assert found.outcomes == {
        "resolved": 2,
        "improved": 0,
        "not_resolved": 1,
        "abandoned": 0,
        "out_of_scope": 0,
    }
    # Only the problem first resolved in the period counts for the median: 30 days.
    assert found.days_to_resolve == (30.0,)
    assert found.median_days_to_resolve == 30.0
    assert found.identified_by_month == {"2026-01": 2}
    assert found.resolved_by_month == {"2026-01": 2}


@pytest.mark.parametrize(
    ("moment", "state"),
    [
        ("2026-01-01T00:00:00", None),
        ("2026-01-02T10:00:01", "reported"),
        ("2026-01-10T10:00:01", "analysis"),
    ],
)
def test_state_at(moment: str, state: str | None) -> None:
    problem = history(
        "2026-01-02T10:00:00",
        ("2026-01-02T10:00:00", "reported"),
        ("2026-01-10T10:00:00", "not_resolved"),
        ("2026-01-10T10:00:00", "analysis"),
    )
    assert figures.state_at(problem, utc(moment)) == state


# --- incidents -------------------------------------------------------------------------------


def test_incident_figures() -> None:
    facts = [
        IncidentFact(utc("2026-01-03T10:00:00"), "P1", "persons", 2),
        IncidentFact(utc("2026-01-31T23:30:00"), "P3", "property", 0),  # February in Paris
        IncidentFact(utc("2026-01-20T10:00:00"), "P2", "persons", 1),
        IncidentFact(utc("2026-01-21T10:00:00"), "P4", "other", 0),
    ]
    found = figures.incident_figures(
        facts, [(2026, 1), (2026, 2)], ("persons", "property", "other")
    )
    assert found.count == 4
    assert found.by_family == {"persons": 2, "property": 1, "other": 1}
    assert found.by_month == {
        "2026-01": {"persons": 2, "property": 0, "other": 1},
        "2026-02": {"persons": 0, "property": 1, "other": 0},
    }
    assert (found.staff_victim_incidents, found.staff_victims) == (2, 3)
    assert (found.p1_p2, found.share_p1_p2) == (2, 0.5)
    empty = figures.incident_figures([], [(2026, 1)], ("persons",))
    assert (empty.count, empty.share_p1_p2) == (0, None)


# --- hotspots --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-03-16T00:30:00", (0, 1)),  # Monday 01:30 in Paris (winter)
        ("2026-03-29T22:30:00", (0, 0)),  # Monday 00:30 in Paris (summer time begun)
        ("2026-03-14T17:30:00", (5, 18)),  # Saturday 18:30
        ("2026-03-15T23:10:00", (0, 0)),  # Sunday 23:10 UTC is Monday in Paris
    ],
)
def test_hour_of_week(moment: str, expected: tuple[int, int]) -> None:
    assert hotspots.hour_of_week(utc(moment)) == expected


def test_line_heat_stops_and_top() -> None:
    line_a, line_b = ("tisseo", "line:14"), ("tisseo", "line:2")
    stop = ("tisseo", "stop:1")
    facts = [
        hotspots.PlaceFact(utc("2026-03-14T17:30:00"), line_a, stop),
        hotspots.PlaceFact(utc("2026-03-14T17:45:00"), line_a, None),
        hotspots.PlaceFact(utc("2026-03-16T00:30:00"), line_b, stop),
        hotspots.PlaceFact(utc("2026-03-16T00:30:00"), None, None),
    ]
    heat = hotspots.line_heat(facts)
    assert heat[line_a][5][18] == 2
    assert sum(map(sum, heat[line_a])) == 2
    assert heat[line_b][0][1] == 1
    assert hotspots.stop_counts(facts) == {stop: 2}
    assert hotspots.top({line_a: 2, line_b: 2, ("a", "b"): 1}, 2) == [(line_a, 2), (line_b, 2)]


@pytest.mark.parametrize(
    ("value", "highest", "level"),
    [
        (0, 10, 0),
        (1, 10, 1),
        (3, 10, 2),
        (5, 10, 2),
        (6, 10, 3),
        (9, 10, 4),
        (10, 10, 4),
        (1, 1, 4),
    ],
)
def test_heat_level(value: int, highest: int, level: int) -> None:
    assert hotspots.heat_level(value, highest) == level


# --- charts ----------------------------------------------------------------------------------

NS = {"svg": "http://www.w3.org/2000/svg"}


def test_monthly_chart_bars_and_description() -> None:
    svg = charts.monthly_chart(
        ["2026-01", "2026-02"],
        [charts.Series("Identifiés", [3, 0]), charts.Series("Résolus", [1, 2])],
        title="Problèmes <identifiés>",
        ident="g",
    )
    root = ET.fromstring(svg)  # noqa: S314 - our own output, under test
    bars = root.findall(".//svg:rect[@data-month]", NS)
    assert [(b.get("data-month"), b.get("class"), b.get("data-count")) for b in bars] == [
        ("2026-01", "bar s0", "3"),
        ("2026-01", "bar s1", "1"),
        ("2026-02", "bar s0", "0"),
        ("2026-02", "bar s1", "2"),
    ]
    assert root.find("svg:title", NS).text == "Problèmes <identifiés>"  # type: ignore[union-attr]
    description = root.find("svg:desc", NS).text  # type: ignore[union-attr]
    assert "janv. 26 Identifiés 3, Résolus 1" in str(description)
    assert "style" not in svg


def test_bar_list_chart() -> None:
    svg = charts.bar_list_chart(
        [("GPO A", 4), ("GPO B", 0)], title="Réunions", ident="r", unit="réunions"
    )
    root = ET.fromstring(svg)  # noqa: S314 - our own output, under test
    bars = root.findall(".//svg:rect[@data-label]", NS)
    assert [(b.get("data-label"), b.get("data-count")) for b in bars] == [
        ("GPO A", "4"),
        ("GPO B", "0"),
    ]
    assert float(bars[1].get("width") or -1) == 0.0
    assert charts.month_label("2025-12") == "déc. 25"
    assert PARIS  # the charts' months are the figures' Paris months
