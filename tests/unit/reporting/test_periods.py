"""The exports' periods and months, in Paris time, as tables."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.reporting.rules import periods

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 14, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "last", "starts_at", "ends_at"),
    [
        # Winter: Paris is UTC+1.
        ("2026-03-01", "2026-03-01", "2026-02-28T23:00", "2026-03-01T23:00"),
        # The change to summer time (29 March 2026): that day has 23 hours.
        ("2026-03-29", "2026-03-29", "2026-03-28T23:00", "2026-03-29T22:00"),
        # Summer: UTC+2.
        ("2026-07-01", "2026-07-31", "2026-06-30T22:00", "2026-07-31T22:00"),
    ],
)
def test_a_period_is_paris_days_both_included(
    first: str, last: str, starts_at: str, ends_at: str
) -> None:
    found = periods.period(dt.date.fromisoformat(first), dt.date.fromisoformat(last), now=NOW)
    assert found.starts_at == dt.datetime.fromisoformat(starts_at).replace(tzinfo=UTC)
    assert found.ends_at == dt.datetime.fromisoformat(ends_at).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (None, None, ("2026-02-12", "2026-03-14")),
        ("2026-03-01", None, ("2026-03-01", "2026-03-14")),
        # A start after today: the period is that day.
        ("2026-04-01", None, ("2026-04-01", "2026-04-01")),
        (None, "2026-01-31", ("2026-01-01", "2026-01-31")),
    ],
)
def test_missing_bounds_default_to_the_last_31_days(
    first: str | None, last: str | None, expected: tuple[str, str]
) -> None:
    found = periods.period(
        dt.date.fromisoformat(first) if first else None,
        dt.date.fromisoformat(last) if last else None,
        now=NOW,
    )
    assert (found.first.isoformat(), found.last.isoformat()) == expected


def test_a_period_ending_before_it_starts_names_both_fields() -> None:
    with pytest.raises(periods.PeriodRefused) as refused:
        periods.period(dt.date(2026, 3, 10), dt.date(2026, 3, 9), now=NOW)
    assert set(refused.value.errors) == {"from", "to"}


def test_dates_out_of_bounds_are_named() -> None:
    with pytest.raises(periods.PeriodRefused) as refused:
        periods.period(dt.date(1999, 12, 31), dt.date(2101, 1, 1), now=NOW)
    assert set(refused.value.errors) == {"from", "to"}


@pytest.mark.parametrize(
    ("text", "starts_at", "ends_at"),
    [
        ("2026-02", "2026-01-31T23:00", "2026-02-28T23:00"),
        ("2026-03", "2026-02-28T23:00", "2026-03-31T22:00"),
        ("2025-12", "2025-11-30T23:00", "2025-12-31T23:00"),
        ("2024-02", "2024-01-31T23:00", "2024-02-29T23:00"),
    ],
)
def test_a_month_runs_from_the_first_to_the_next_first_paris_time(
    text: str, starts_at: str, ends_at: str
) -> None:
    month = periods.parse_month(text)
    assert month.code == text
    assert month.starts_at == dt.datetime.fromisoformat(starts_at).replace(tzinfo=UTC)
    assert month.ends_at == dt.datetime.fromisoformat(ends_at).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-3", "mars", "2026-03-01", "", "1999-12"]
)
def test_not_a_month(text: str) -> None:
    with pytest.raises(periods.MonthRefused):
        periods.parse_month(text)


@pytest.mark.parametrize(
    ("text", "now", "available"),
    [
        ("2026-02", NOW, True),
        ("2026-03", NOW, False),  # the current month
        ("2026-04", NOW, False),  # a future month
        # 31 March 23:59 Paris: March is not over; 1 April 00:00 Paris: it is.
        ("2026-03", dt.datetime(2026, 3, 31, 21, 59, tzinfo=UTC), False),
        ("2026-03", dt.datetime(2026, 3, 31, 22, 0, tzinfo=UTC), True),
    ],
)
def test_only_a_month_that_is_over_is_available(
    text: str, now: dt.datetime, available: bool
) -> None:
    if available:
        assert periods.past_month(text, now=now).code == text
    else:
        with pytest.raises(periods.MonthRefused) as refused:
            periods.past_month(text, now=now)
        assert "is not over" in refused.value.message


def test_last_complete_month() -> None:
    assert periods.last_complete_month(NOW).code == "2026-02"
    assert periods.last_complete_month(dt.datetime(2026, 1, 5, tzinfo=UTC)).code == "2025-12"
