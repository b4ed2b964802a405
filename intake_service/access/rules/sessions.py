"""Whether a signed-in page session still holds. Pure.

The session cookie is signed, not stored: by itself it stays valid until it expires,
and Flask renews it at each use. The server keeps its word through two values the
cookie carries since sign-in (issue 17): the account's session epoch (bumped at
sign-out and when the account is disabled, which ends every session of the account)
and the sign-in time (the session ends ``lifetime`` after it, whatever the activity).
"""

from __future__ import annotations

import datetime as dt
import math


def session_holds(
    *,
    account_epoch: int,
    session_epoch: object,
    started_at: object,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> bool:
    """Whether a session of epoch ``session_epoch``, started at ``started_at`` (seconds
    since 1970, as the cookie holds it), is still one of the account's."""
    # bool is an int in Python: refuse it, as anything the sign-in did not write.
    if isinstance(session_epoch, bool) or session_epoch != account_epoch:
        return False
    if isinstance(session_epoch, float) or not isinstance(session_epoch, int):
        return False
    if isinstance(started_at, bool) or not isinstance(started_at, int | float):
        return False
    if not math.isfinite(started_at):
        return False
    started = dt.datetime.fromtimestamp(started_at, dt.UTC)
    return started <= now < started + lifetime
