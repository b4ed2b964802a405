"""``expiring.Expiring``: what a process keeps of the database for a few seconds."""

from __future__ import annotations

import pytest

from intake_service.platform import expiring
from intake_service.platform.expiring import Expiring


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lasts_its_seconds_and_may_hold_none() -> None:
    ticks = Ticks()
    cache: Expiring[str, str | None] = Expiring(10, ticks)
    assert cache.get("31555") is None
    cache.put("31555", None)  # "no zone" is an answer worth keeping
    cache.put("31069", "ddsp-31")
    ticks.now += 9.9
    assert cache.get("31555") == (None,)
    assert cache.get("31069") == ("ddsp-31",)
    ticks.now += 0.1
    assert cache.get("31555") is None
    assert cache.get("31069") is None


def test_zero_seconds_keeps_nothing() -> None:
    cache: Expiring[str, str] = Expiring(0, Ticks())
    cache.put("key", "value")
    assert cache.get("key") is None


def test_the_map_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expiring, "MAX_ENTRIES", 3)
    cache: Expiring[int, int] = Expiring(10, Ticks())
    for key in range(4):
        cache.put(key, key)
    # Full at the fourth: emptied, then the fourth kept.
    assert [cache.get(key) for key in range(4)] == [None, None, None, (3,)]
