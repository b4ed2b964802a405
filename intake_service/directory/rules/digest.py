"""When the functional mailboxes' daily digest is due, and which day it covers.

The digest goes once a day, from ``hour`` (Europe/Paris) on: a job that runs every few
minutes sends it at its first run past the hour, and an entity that had its digest
today waits until tomorrow for what came after it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def digest_day(now: dt.datetime) -> dt.date:
    """The day (in Paris) a digest sent at ``now`` is dated."""
    return now.astimezone(PARIS).date()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in Paris, as an aware UTC instant."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=PARIS).astimezone(dt.UTC)


def is_due(now: dt.datetime, hour: int) -> bool:
    """Whether the day's digest may go: it is ``hour`` o'clock or later in Paris."""
    return now.astimezone(PARIS).hour >= hour


def french_date(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"
