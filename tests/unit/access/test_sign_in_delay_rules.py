"""The wait before a failed sign-in's next attempt is checked: as a table (issue 17)."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.access.rules.sign_in_delay import (
    FORGET_AFTER,
    FREE_FAILURES,
    LONGEST_WAIT,
    Failures,
    after_failure,
    may_check,
    wait_after,
)

NOW = dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("failures", "wait"),
    [
        (0, 0),
        (1, 0),
        (FREE_FAILURES - 1, 0),
        (FREE_FAILURES, 1),
        (FREE_FAILURES + 1, 2),
        (FREE_FAILURES + 2, 4),
        (FREE_FAILURES + 5, 32),
        (FREE_FAILURES + 9, 512),
        (FREE_FAILURES + 10, 900),
        (FREE_FAILURES + 11, 900),
        (10_000, 900),
    ],
)
def test_the_wait_doubles_after_the_free_failures_up_to_fifteen_minutes(
    failures: int, wait: int
) -> None:
    assert wait_after(failures) == wait * SECOND


def test_the_longest_wait_is_the_old_lock_out() -> None:
    assert dt.timedelta(minutes=15) == LONGEST_WAIT


def test_failures_are_counted_and_forgotten_after_a_quiet_day() -> None:
    first = after_failure(None, NOW)
    assert first == Failures(1, NOW)
    assert after_failure(first, NOW + SECOND) == Failures(2, NOW + SECOND)
    later = NOW + FORGET_AFTER + SECOND
    assert after_failure(Failures(40, NOW), later) == Failures(1, later)


def test_an_address_waits_for_its_own_failures() -> None:
    held = Failures(FREE_FAILURES, NOW)
    assert not may_check(address=held, account=None, now=NOW)
    assert not may_check(address=held, account=None, now=NOW + SECOND / 2)
    assert may_check(address=held, account=None, now=NOW + SECOND)


def test_an_address_with_failures_also_waits_for_the_accounts() -> None:
    account = Failures(FREE_FAILURES + 3, NOW)  # 8 s
    mine = Failures(1, NOW - dt.timedelta(minutes=1))
    assert not may_check(address=mine, account=account, now=NOW + 7 * SECOND)
    assert may_check(address=mine, account=account, now=NOW + 8 * SECOND)


def test_a_clean_address_is_not_held_back_by_others_failures_on_the_account() -> None:
    account = Failures(FREE_FAILURES + 10, NOW)
    assert may_check(address=None, account=account, now=NOW)
    forgotten = Failures(3, NOW - FORGET_AFTER - SECOND)
    assert may_check(address=forgotten, account=account, now=NOW)
