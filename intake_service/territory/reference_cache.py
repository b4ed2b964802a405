"""The reference data every submission reads, kept per process: operators and police zones.

Each sheet needs its operator (the token's scope) and the police zone of its
commune. Read from the database, they cost two round trips per sheet for data
that changes a few times a year; a process keeps what it read for
``REFERENCE_CACHE_SECONDS`` (10 s). The price: an operator's new details, or a
zone import, apply to new sheets within that delay, as a token revocation does
(``TOKEN_CACHE_SECONDS``). An unknown operator is not remembered (registering
one takes effect at once); a commune without zone is (it is routed to its
département's default until the import is seen).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from intake_service.models import Operator, PoliceZone
from intake_service.platform.expiring import Expiring
from intake_service.territory import zones
from intake_service.territory.operators import find_operator
from intake_service.territory.rules.routing import PoliceZoneEntry


class ReferenceCache:
    """Operators by code and police zones by INSEE code, each kept for ``seconds``."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._operators: Expiring[str, Operator] = Expiring(seconds, clock)
        self._zones: Expiring[str, PoliceZoneEntry | None] = Expiring(seconds, clock)
        self._covered: Expiring[str, bool] = Expiring(seconds, clock)

    def operator(self, session: Session, code: str) -> Operator | None:
        """The operator with this code, as an object of ``session`` (or None)."""
        cached = self._operators.get(code)
        if cached is not None:
            # A copy in this session, without a query: the cached object itself is
            # never attached (sessions of other threads use it too).
            return session.merge(cached[0], load=False)
        found = find_operator(session, code)
        if found is not None:
            self._operators.put(code, _detached_copy(found))
        return found

    def zone(self, session: Session, insee_code: str) -> PoliceZoneEntry | None:
        """The police zone of the commune, or None if the zone table does not have it."""
        cached = self._zones.get(insee_code)
        if cached is not None:
            return cached[0]
        row = session.get(PoliceZone, insee_code)
        entry = PoliceZoneEntry(row.service_code, row.service_name) if row else None
        self._zones.put(insee_code, entry)
        return entry

    def covers(self, session: Session, department: str) -> bool:
        """Does the zone table cover the département (``zones.covers``)?"""
        cached = self._covered.get(department)
        if cached is not None:
            return cached[0]
        covered = zones.covers(session, department)
        self._covered.put(department, covered)
        return covered


def _detached_copy(operator: Operator) -> Operator:
    # Every column (one left out would be loaded by a query on each use of the copy).
    copy = Operator(
        **{column.key: getattr(operator, column.key) for column in inspect(Operator).column_attrs}
    )
    make_transient_to_detached(copy)
    return copy
