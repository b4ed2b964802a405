"""Whether a page session still holds: the account's epoch and an absolute lifetime."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.access.rules.sessions import session_holds

NOW = dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC)
TWELVE_HOURS = dt.timedelta(hours=12)
STARTED = int(NOW.timestamp())


def holds(epoch: object = 3, started: object = STARTED, now: dt.datetime = NOW) -> bool:
    return session_holds(
        account_epoch=3, session_epoch=epoch, started_at=started, now=now, lifetime=TWELVE_HOURS
    )


def test_a_fresh_session_of_the_current_epoch_holds() -> None:
    assert holds()
    assert holds(now=NOW + TWELVE_HOURS - dt.timedelta(seconds=1))


def test_it_ends_at_the_lifetime_whatever_the_activity() -> None:
    assert not holds(now=NOW + TWELVE_HOURS)


@pytest.mark.parametrize("epoch", [2, 4, None, "3", 3.0, True])
def test_another_epoch_or_none_does_not_hold(epoch: object) -> None:
    assert not holds(epoch=epoch)


@pytest.mark.parametrize("started", [None, "1773509400", float("nan"), STARTED + 3600, True])
def test_a_missing_odd_or_future_start_does_not_hold(started: object) -> None:
    assert not holds(started=started)
