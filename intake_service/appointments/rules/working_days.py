"""Working days: French public holidays (metropolitan and overseas, ``holidays``
package) and counting working days from a date. Pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from typing import TYPE_CHECKING

import holidays as holidays_package

if TYPE_CHECKING:
    # The booking module imports this one: its policy is only named here.
    pass


def french_holidays() -> Container[dt.date]:
    """French public holidays (metropolitan), any year, from the ``holidays`` package."""
    calendar: Container[dt.date] = holidays_package.country_holidays("FR")
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
