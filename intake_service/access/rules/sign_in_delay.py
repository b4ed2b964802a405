"""How long a failed sign-in holds back the next attempt. Pure.

Issue 17 replaced the lock-out (five failures locked an account for 15 minutes, so
anyone could lock anyone, and only real accounts answered "verrouillé"). Failures are
now counted per address and per account (an unknown e-mail as well as a real account, so
the count says nothing of which accounts exist). After ``FREE_FAILURES`` failures, the
next attempt is not even checked until a wait has passed, doubling with each failure
up to ``LONGEST_WAIT``. Attempts made during the wait are refused and not counted:
hammering does not lengthen the wait, and cannot hold an account forever.

An address waits for its own failures, and, once it has failed at least once, for
the account's too: an attacker spread over many addresses gets one free try per
address, while the account's owner, from an address that has not failed, is never
held back by someone else's failures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

FREE_FAILURES = 5
FIRST_WAIT = dt.timedelta(seconds=1)
LONGEST_WAIT = dt.timedelta(minutes=15)
# A count with no failure for this long starts again from zero.
FORGET_AFTER = dt.timedelta(hours=24)
# 2**10 s > 15 min: no need to compute larger powers (nor to overflow a timedelta).
_MAX_DOUBLINGS = 10


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins of one address or one account, and the time of the last one."""

    count: int
    last_at: dt.datetime


def wait_after(count: int) -> dt.timedelta:
    """The wait before the attempt following ``count`` failures is checked."""
    if count < FREE_FAILURES:
        return dt.timedelta(0)
    return min(LONGEST_WAIT, FIRST_WAIT * 2 ** min(count - FREE_FAILURES, _MAX_DOUBLINGS))


def current(failures: Failures | None, now: dt.datetime) -> Failures | None:
    """``failures``, or None when there are none or they are forgotten."""
    if failures is None or failures.count <= 0 or now - failures.last_at > FORGET_AFTER:
        return None
    return failures


def after_failure(failures: Failures | None, now: dt.datetime) -> Failures:
    """The count once a checked attempt has failed at ``now``."""
    known = current(failures, now)
    return Failures((known.count if known else 0) + 1, now)


def _waited(failures: Failures | None, now: dt.datetime) -> bool:
    known = current(failures, now)
    return known is None or now >= known.last_at + wait_after(known.count)


def may_check(*, address: Failures | None, account: Failures | None, now: dt.datetime) -> bool:
    """Whether an attempt from an address with ``address`` failures, on an account with
    ``account`` failures, is checked at all now."""
    if not _waited(address, now):
        return False
    return current(address, now) is None or _waited(account, now)
