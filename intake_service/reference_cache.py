"""The reference data every submission reads, kept per process: operators and police zones.

Each sheet needs its operator (the token's scope) and the police zone of its
commune. Read from the database, they cost two round trips per sheet for data
that changes a few times a year; a process keeps what it read for
``REFERENCE_CACHE_SECONDS`` (10 s). The price: an operator's new details, or a
zone import, apply to new sheets within that delay, as a token revocation does
(``TOKEN_CACHE_SECONDS``). An unknown operator is not remembered (registering
one takes effect at once); a commune without zone is (it is routed to its
département's default until the import is seen).

Thread-safe under the GIL: entries are replaced whole, never mutated; two
threads missing together both read, and the last write wins.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session, make_transient_to_detached

from intake_service.models import Operator, PoliceZone
from intake_service.operators import find_operator
from intake_service.routing import PoliceZoneEntry

Entry = TypeVar("Entry")

# A bound on memory, far above the 35,000 communes of France.
MAX_ENTRIES = 50_000


class ReferenceCache:
    """Operators by code and police zones by INSEE code, each kept for ``seconds``."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._operators: dict[str, tuple[Operator, float]] = {}
        self._zones: dict[str, tuple[PoliceZoneEntry | None, float]] = {}

    def operator(self, session: Session, code: str) -> Operator | None:
        """The operator with this code, as an object of ``session`` (or None)."""
        now = self._clock()
        cached = self._operators.get(code)
        if cached is not None and cached[1] > now:
            # A copy in this session, without a query: the cached object itself is
            # never attached (sessions of other threads use it too).
            return session.merge(cached[0], load=False)
        found = find_operator(session, code)
        if found is not None and self.seconds > 0:
            _remember(self._operators, code, (_detached_copy(found), now + self.seconds))
        return found

    def zone(self, session: Session, insee_code: str) -> PoliceZoneEntry | None:
        """The police zone of the commune, or None if the zone table does not have it."""
        now = self._clock()
        cached = self._zones.get(insee_code)
        if cached is not None and cached[1] > now:
            return cached[0]
        row = session.get(PoliceZone, insee_code)
        entry = PoliceZoneEntry(row.service_code, row.service_name) if row else None
        if self.seconds > 0:
            _remember(self._zones, insee_code, (entry, now + self.seconds))
        return entry


def _remember(entries: dict[str, Entry], key: str, entry: Entry) -> None:
    if len(entries) >= MAX_ENTRIES:
        entries.clear()
    entries[key] = entry


def _detached_copy(operator: Operator) -> Operator:
    copy = Operator(
        id=operator.id,
        code=operator.code,
        name=operator.name,
        created_at=operator.created_at,
        referent_email=operator.referent_email,
    )
    make_transient_to_detached(copy)
    return copy
