"""An example sheet moved to now: every instant of it shifted by the same amount, so a
sheet written at its manifest's reference instant is as fresh today as it was then
(``examples/sheets``; ``intake-service examples sheet``). Pure.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

# The sheet's instants (schemas/sheet.py): when it happened, until when the video is kept.
INSTANT_PATHS = (("occurred_at",), ("video", "erased_after"))


def moved_to(sheet: dict[str, Any], reference: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    """A copy of ``sheet`` whose instants are as far from ``now`` as from ``reference``,
    each in its own UTC offset, to the second."""
    shift = now.replace(microsecond=0) - reference
    moved: dict[str, Any] = json.loads(json.dumps(sheet))
    for path in INSTANT_PATHS:
        holder: Any = moved
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or not isinstance(holder.get(path[-1]), str):
            continue
        instant = dt.datetime.fromisoformat(holder[path[-1]])
        holder[path[-1]] = (instant + shift).isoformat()
    return moved
