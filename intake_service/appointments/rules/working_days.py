"""Working days: French public holidays by département (``holidays`` package) and
counting working days from a date. Pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from typing import TYPE_CHECKING

import holidays as holidays_package

if TYPE_CHECKING:
    # The booking module imports this one: its policy is only named here.
    pass


# The départements whose calendar differs from the metropolitan one, by the
# ``holidays`` package's subdivision: Moselle and Alsace (Good Friday, 26 December),
# the overseas départements (the abolition of slavery, on their own dates).
SUBDIVISIONS = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
}


def french_holidays(department: str | None = None) -> Container[dt.date]:
    """French public holidays of ``department`` (31, 57, 974; None: metropolitan), any
    year, from the ``holidays`` package."""
    subdivision = SUBDIVISIONS.get(department or "")
    calendar: Container[dt.date] = holidays_package.country_holidays("FR", subdiv=subdivision)
    return calendar


def is_working_day(day: dt.date, holidays: Container[dt.date]) -> bool:
    """Monday to Friday, not a public holiday."""
    return day.weekday() < 5 and day not in holidays


def add_working_days(day: dt.date, count: int, holidays: Container[dt.date]) -> dt.date:
    """The ``count``-th working day after ``day`` (``day`` itself never counts)."""
    while count > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays):
            count -= 1
    return day
