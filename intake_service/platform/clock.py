"""Time, once: the service's clock is UTC; people read it in Paris time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# Every date a person reads or types (pages, emails, slots, working days) is in Paris time.
PARIS = ZoneInfo("Europe/Paris")


def utc_now() -> dt.datetime:
    """Now, aware, in UTC: what the service stores and compares."""
    return dt.datetime.now(dt.UTC)
