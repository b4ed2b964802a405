"""The periods of the exports, in Paris days and months, turned into UTC bounds. Pure.

An export period is two Paris dates, both included: ``2026-03-01`` to ``2026-03-31``
covers every incident received from 1 March 00:00 to 1 April 00:00, Paris time (so a
day of the change to summer time has 23 hours, as the field counts it).

A month (``YYYY-MM``) of the statistics return is available once it is over: its
figures are then fixed (see ``monthly_figures``), so the current month and the
months to come are refused, never half-counted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
# Dates far outside the service's life are typos (and would overflow the arithmetic).
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)
# The default export period: the last 31 days, today included.
DEFAULT_DAYS = 31
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """Paris dates ``first`` to ``last``, both included."""

    first: dt.date
    last: dt.date

    @property
    def starts_at(self) -> dt.datetime:
        return paris_midnight(self.first)

    @property
    def ends_at(self) -> dt.datetime:
        """Exclusive: the midnight after ``last``."""
        return paris_midnight(self.last + dt.timedelta(days=1))


class PeriodRefused(ValueError):
    """Bad dates: ``errors`` maps each offending field to its message (in English)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def paris_midnight(day: dt.date) -> dt.datetime:
    """00:00 of ``day`` in Paris, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(), tzinfo=PARIS).astimezone(dt.UTC)


def paris_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(PARIS).date()


def period(first: dt.date | None, last: dt.date | None, *, now: dt.datetime) -> Period:
    """The period asked for: missing bounds default to the last ``DEFAULT_DAYS`` days up
    to today (Paris). Refused, naming both fields, when ``first`` comes after ``last``."""
    errors: dict[str, str] = {}
    for name, value in (("from", first), ("to", last)):
        if value is not None and not FIRST_DATE <= value <= LAST_DATE:
            errors[name] = f"Must be between {FIRST_DATE} and {LAST_DATE}."
    if errors:
        raise PeriodRefused(errors)
    if last is None:
        last = max(paris_day(now), first) if first is not None else paris_day(now)
    if first is None:
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise PeriodRefused(
            {
                "from": f"The period starts ({first}) after it ends ({last}).",
                "to": f"The period ends ({last}) before it starts ({first}).",
            }
        )
    return Period(first, last)


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def code(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> dt.date:
        if self.month == 12:
            return dt.date(self.year + 1, 1, 1)
        return dt.date(self.year, self.month + 1, 1)

    @property
    def starts_at(self) -> dt.datetime:
        return paris_midnight(self.first_day)

    @property
    def ends_at(self) -> dt.datetime:
        """Exclusive: 00:00 Paris on the first day of the next month."""
        return paris_midnight(self.next_first_day)


class MonthRefused(ValueError):
    """Not a month of the return: ``message`` says why (in English)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_month(text: str) -> Month:
    """``YYYY-MM`` (``2026-02``), else ``MonthRefused``."""
    match = MONTH_PATTERN.fullmatch(text)
    if match is None:
        raise MonthRefused(f"Not a month: {text[:20]!r}; write it YYYY-MM (2026-02).")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise MonthRefused(f"Not a month: {text!r}; the month is 01 to 12.")
    found = Month(year, month)
    if not FIRST_DATE <= found.first_day <= LAST_DATE:
        raise MonthRefused(f"The month must be between {FIRST_DATE:%Y-%m} and {LAST_DATE:%Y-%m}.")
    return found


def past_month(text: str, *, now: dt.datetime) -> Month:
    """A month that is over at ``now`` (Paris time); the current or a future month is
    refused: its figures would still change."""
    found = parse_month(text)
    if found.ends_at > now:
        current = paris_day(now)
        raise MonthRefused(
            f"{found.code} is not over (today is {current.isoformat()}): the return is "
            f"available from {found.next_first_day.isoformat()}; the last complete month "
            f"is {last_complete_month(now).code}."
        )
    return found


def last_complete_month(now: dt.datetime) -> Month:
    today = paris_day(now)
    if today.month == 1:
        return Month(today.year - 1, 12)
    return Month(today.year, today.month - 1)
