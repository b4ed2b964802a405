"""Operators' GTFS feeds in the database: import a parsed feed, answer routing questions.

``import_feed`` replaces an operator's whole feed in the caller's transaction, so
readers keep seeing the previous feed until commit and a failed import leaves it
untouched. The queries are what the intake asks when it checks a sheet's ``route_id``
and ``stop_id``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, case, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from intake_service.models import GtfsFeed, GtfsRoute, GtfsRouteStop, GtfsStop, Operator
from intake_service.territory.gtfs_feed import SOURCE_MAX, STATION, ParsedFeed, ParsedStop
from intake_service.territory.operators import find_operator

CommuneOf = Callable[[float, float], "str | None"]
# Rows per executemany when inserting the feed.
INSERT_CHUNK = 5_000


class UnknownOperator(ValueError):
    """No operator has this code; the message says how to add it."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(
            f"unknown operator {code!r}: add it first with "
            f"`intake-service operators add {code} --name NAME`."
        )


# --- Import --------------------------------------------------------------------------------


def require_operator(session: Session, code: str, *, lock: bool = False) -> Operator:
    """The operator with this code, or ``UnknownOperator``."""
    operator = find_operator(session, code, lock=lock)
    if operator is None:
        raise UnknownOperator(code)
    return operator


def _insee_codes(stops: list[ParsedStop], commune_of: CommuneOf) -> dict[str, str | None]:
    """Each stop's commune: by its position, else (no coordinates) its parent's."""
    codes: dict[str, str | None] = {
        stop.stop_id: commune_of(stop.lat, stop.lon)
        for stop in stops
        if stop.lat is not None and stop.lon is not None
    }
    parents = {stop.stop_id: stop.parent_station for stop in stops}
    for stop in stops:
        if stop.stop_id in codes:
            continue
        code: str | None = None
        seen = {stop.stop_id}
        ancestor = stop.parent_station
        # Entrances and boarding areas may hang below a platform: walk up, and stop on cycles.
        while ancestor is not None and ancestor not in seen:
            if ancestor in codes:
                code = codes[ancestor]
                break
            seen.add(ancestor)
            ancestor = parents.get(ancestor)
        codes[stop.stop_id] = code
    return codes


def _insert(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == INSERT_CHUNK:
            session.execute(insert(table), chunk)
            chunk = []
    if chunk:
        session.execute(insert(table), chunk)


def import_feed(
    session: Session,
    operator_code: str,
    feed: ParsedFeed,
    *,
    source: str,
    now: dt.datetime,
    commune_of: CommuneOf,
) -> GtfsFeed:
    """Replace the operator's whole feed with ``feed``, in the caller's transaction."""
    # Locking the operator's row serialises two imports of the same operator on
    # PostgreSQL: otherwise both delete the old rows, and the second one's inserts
    # collide with the first one's. (SQLite already serialises writers.)
    operator = require_operator(session, operator_code, lock=True)
    insee = _insee_codes(feed.stops, commune_of)
    route_table: Table = GtfsRoute.__table__  # type: ignore[assignment]  # declared as FromClause
    stop_table: Table = GtfsStop.__table__  # type: ignore[assignment]  # same
    pair_table: Table = GtfsRouteStop.__table__  # type: ignore[assignment]  # same
    # Core statements: the rows are many and no ORM object is needed for them.
    for table in (pair_table, stop_table, route_table):
        session.execute(delete(table).where(table.c.operator_id == operator.id))
    _insert(
        session,
        route_table,
        (
            {
                "operator_id": operator.id,
                "route_id": route.route_id,
                "short_name": route.short_name,
                "long_name": route.long_name,
                "route_type": route.route_type,
            }
            for route in feed.routes
        ),
    )
    _insert(
        session,
        stop_table,
        (
            {
                "operator_id": operator.id,
                "stop_id": stop.stop_id,
                "name": stop.name,
                "lat": stop.lat,
                "lon": stop.lon,
                "location_type": stop.location_type,
                "parent_station": stop.parent_station,
                "insee_code": insee[stop.stop_id],
            }
            for stop in feed.stops
        ),
    )
    pairs = sorted(feed.route_stops or ())
    _insert(
        session,
        pair_table,
        (
            {"operator_id": operator.id, "route_id": route_id, "stop_id": stop_id}
            for route_id, stop_id in pairs
        ),
    )
    record = session.scalar(select(GtfsFeed).where(GtfsFeed.operator_id == operator.id))
    if record is None:
        record = GtfsFeed(operator_id=operator.id)
        session.add(record)
    # Keep the end of a long path: the file name says more than the root folders.
    record.source = source if len(source) <= SOURCE_MAX else "…" + source[-(SOURCE_MAX - 1) :]
    record.imported_at = now
    record.routes_count = len(feed.routes)
    record.stops_count = len(feed.stops)
    record.route_stops_count = len(pairs)
    session.flush()
    return record


# --- Queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSummary:
    routes: int
    stops: int
    stations: int
    route_stops: int
    with_commune: int
    without_commune: int


def feed_summary(session: Session, operator_id: int) -> FeedSummary:
    """What the operator's stored feed holds."""
    of_operator = GtfsStop.operator_id == operator_id
    stops, stations, with_commune = session.execute(
        select(
            func.count(),
            func.count(case((GtfsStop.location_type == STATION, 1))),
            func.count(GtfsStop.insee_code),
        ).where(of_operator)
    ).one()
    routes = session.scalar(
        select(func.count()).select_from(GtfsRoute).where(GtfsRoute.operator_id == operator_id)
    )
    pairs = session.scalar(
        select(func.count())
        .select_from(GtfsRouteStop)
        .where(GtfsRouteStop.operator_id == operator_id)
    )
    return FeedSummary(
        routes=routes or 0,
        stops=stops,
        stations=stations,
        route_stops=pairs or 0,
        with_commune=with_commune,
        without_commune=stops - with_commune,
    )


def has_feed(session: Session, operator_id: int) -> bool:
    return bool(session.scalar(select(exists().where(GtfsFeed.operator_id == operator_id))))


def find_stop(session: Session, operator_id: int, stop_id: str) -> GtfsStop | None:
    return session.get(GtfsStop, (operator_id, stop_id))


def route_exists(session: Session, operator_id: int, route_id: str) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(GtfsRoute.operator_id == operator_id, GtfsRoute.route_id == route_id)
            )
        )
    )


def _station_group(session: Session, operator_id: int, stop_id: str) -> set[str]:
    """The stop, the station above it and every stop below that station."""
    top = stop_id
    seen = {stop_id}
    while (stop := find_stop(session, operator_id, top)) is not None and (
        stop.location_type != STATION and stop.parent_station not in (None, *seen)
    ):
        assert stop.parent_station is not None  # for mypy: excluded just above
        top = stop.parent_station
        seen.add(top)
    group = {stop_id, top}
    frontier = {top}
    # Station → platform → boarding area: at most a few levels.
    while frontier:
        children = set(
            session.scalars(
                select(GtfsStop.stop_id).where(
                    GtfsStop.operator_id == operator_id, GtfsStop.parent_station.in_(frontier)
                )
            )
        )
        frontier = children - group
        group |= children
    return group


def route_serves_stop(
    session: Session, operator_id: int, route_id: str, stop_id: str
) -> bool | None:
    """Whether the route stops there; None when unknown (no stop_times for the route).

    A stop counts as served when the route serves any stop of the same station:
    the station itself, one of its platforms, or a sibling platform (the other
    direction's), since a sheet may name either.
    """
    of_route = (GtfsRouteStop.operator_id == operator_id, GtfsRouteStop.route_id == route_id)
    if not session.scalar(select(exists().where(*of_route))):
        return None
    group = _station_group(session, operator_id, stop_id)
    return bool(session.scalar(select(exists().where(*of_route, GtfsRouteStop.stop_id.in_(group)))))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_stops(session: Session, operator_id: int, text: str, limit: int = 20) -> list[GtfsStop]:
    """Stops whose name contains ``text`` (case-insensitive), names starting with it first.

    Accents are not folded: "jaures" does not find "Jaurès", and SQLite's lower()
    only folds ASCII letters.
    """
    needle = _like_escape(text.strip().lower())
    if not needle:
        return []
    name = func.lower(GtfsStop.name)
    query = (
        select(GtfsStop)
        .where(GtfsStop.operator_id == operator_id, name.like(f"%{needle}%", escape="\\"))
        .order_by(
            case((name.like(f"{needle}%", escape="\\"), 0), else_=1),
            GtfsStop.name,
            GtfsStop.stop_id,
        )
        .limit(limit)
    )
    return list(session.scalars(query))


def list_routes(session: Session, operator_id: int) -> list[GtfsRoute]:
    """The operator's routes, for a form's line list: by mode, then short name."""
    query = (
        select(GtfsRoute)
        .where(GtfsRoute.operator_id == operator_id)
        .order_by(GtfsRoute.route_type, func.length(GtfsRoute.short_name), GtfsRoute.short_name)
    )
    return list(session.scalars(query))


def find_route(session: Session, operator_id: int, route_id: str) -> GtfsRoute | None:
    return session.get(GtfsRoute, (operator_id, route_id))
