"""A map whose entries expire: what a process keeps of the database for a few seconds.

Used for checked tokens (``TOKEN_CACHE_SECONDS``) and for operators and police
zones (``REFERENCE_CACHE_SECONDS``). Thread-safe under the GIL: entries are
replaced whole, never mutated; two threads missing together both read the
database, and the last write wins. ``seconds`` 0 keeps nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")

# A bound on memory, far above the 35,000 communes of France.
MAX_ENTRIES = 50_000


class Expiring(Generic[Key, Value]):
    """Entries kept for ``seconds`` after they are put."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._entries: dict[Key, tuple[Value, float]] = {}

    def get(self, key: Key) -> tuple[Value] | None:
        """``(value,)`` while the entry lasts (the value may be None), else None."""
        entry = self._entries.get(key)
        if entry is None or entry[1] <= self._clock():
            return None
        return (entry[0],)

    def put(self, key: Key, value: Value) -> None:
        if self.seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (value, self._clock() + self.seconds)
