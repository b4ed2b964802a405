"""The per-process cache of operators and police zones (``reference_cache``).

It saves two round trips per sheet; what it costs is a delay, bounded by
``REFERENCE_CACHE_SECONDS``, before a zone import reaches new sheets.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from intake_service.platform.db import Database
from intake_service.territory import zones
from intake_service.territory.operators import add_operator
from intake_service.territory.reference_cache import ReferenceCache
from tests.factories import a_sheet, create_tokens


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cached_app(app: Any, seconds: float = 10) -> Ticks:
    ticks = Ticks()
    app.extensions["intake.reference"] = ReferenceCache(seconds, clock=ticks)
    return ticks


def _service(client: Any, headers: dict[str, str], reference: str) -> str:
    """Submit a sheet; the code of the service it was routed to."""
    response = client.post("/api/v1/incidents", json=a_sheet(reference), headers=headers)
    assert response.status_code == 201, response.get_json()
    # Read back: the stored incident names the token's operator.
    stored = client.get(response.headers["Location"], headers=headers).get_json()
    assert stored["operator"] == "tisseo"
    return str(response.get_json()["competent_service"]["code"])


def test_a_zone_import_reaches_new_sheets_once_the_cache_expires(
    app: Any, db: Database, clock: Any
) -> None:
    ticks = _cached_app(app)
    headers = create_tokens(db, clock.now)["operator"]
    client = app.test_client()
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "csp-toulouse", "Commissariat de Toulouse")])
    assert _service(client, headers, "Z-1") == "csp-toulouse"

    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "csp-toulouse-nord", "Commissariat nord")])
    ticks.now += 9
    assert _service(client, headers, "Z-2") == "csp-toulouse"  # still the zone read at Z-1
    ticks.now += 2
    assert _service(client, headers, "Z-3") == "csp-toulouse-nord"


def test_no_cache_when_the_delay_is_zero(app: Any, db: Database, clock: Any) -> None:
    _cached_app(app, seconds=0)
    headers = create_tokens(db, clock.now)["operator"]
    client = app.test_client()
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "csp-toulouse", "Commissariat de Toulouse")])
    assert _service(client, headers, "Z-1") == "csp-toulouse"
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "csp-toulouse-nord", "Commissariat nord")])
    assert _service(client, headers, "Z-2") == "csp-toulouse-nord"


def test_the_operator_and_the_zone_are_read_once_per_delay(
    app: Any, db: Database, clock: Any
) -> None:
    ticks = _cached_app(app)
    headers = create_tokens(db, clock.now)["operator"]
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "csp-toulouse", "Commissariat de Toulouse")])
    client = app.test_client()
    statements: list[str] = []

    def remember(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", remember)
    reads = ("FROM operators", "FROM police_zones")

    def reads_of_reference_data() -> int:
        return sum(1 for s in statements if s.startswith("SELECT") and any(r in s for r in reads))

    _service(client, headers, "R-1")
    assert reads_of_reference_data() == 2
    _service(client, headers, "R-2")
    assert reads_of_reference_data() == 2  # both from the cache
    ticks.now += 11
    _service(client, headers, "R-3")
    assert reads_of_reference_data() == 4


def test_an_unknown_operator_is_not_remembered(db: Database, clock: Any) -> None:
    cache = ReferenceCache(10, clock=Ticks())
    with db.transaction() as session:
        assert cache.operator(session, "nouveau") is None
        add_operator(session, "nouveau", "Nouveau réseau", now=clock.now)
    with db.transaction() as session:
        found = cache.operator(session, "nouveau")
        assert found is not None
        assert found.name == "Nouveau réseau"
    with db.transaction() as session:
        again = cache.operator(session, "nouveau")  # from the cache, in this session
        assert again is not None
        assert again is not found
        assert again in session
