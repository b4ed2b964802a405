"""Reading and checking an operator's GTFS feed (a zip or a folder): files in, a
``ParsedFeed`` out, or a ``GtfsError`` naming the file and line at fault. No database.
"""

from __future__ import annotations

import csv
import math
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

Progress = Callable[[str, int], None]

REQUIRED_FILES = ("agency.txt", "routes.txt", "stops.txt")
# stop_times.txt may hold millions of rows: progress is reported every so many.
PROGRESS_EVERY = 100_000
# The widths of the model columns.
ID_MAX = 64
SHORT_NAME_MAX = 64
NAME_MAX = 255
SOURCE_MAX = 500

# GTFS route types: the basic ones, then Google's extended types (100 rail … 1700 misc.).
BASIC_ROUTE_TYPES = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 11, 12})
EXTENDED_ROUTE_TYPES = range(100, 1800)
# location_type: 0 stop/platform, 1 station, 2 entrance, 3 generic node, 4 boarding area.
LOCATION_TYPES = range(5)
LOCATED_TYPES = frozenset({0, 1})
STATION = 1


class GtfsError(ValueError):
    """The feed is refused: ``file`` and ``line`` (1 = the header) say where, ``message`` why."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file} line {self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ParsedRoute:
    route_id: str
    short_name: str
    long_name: str
    route_type: int


@dataclass(frozen=True)
class ParsedStop:
    stop_id: str
    name: str
    lat: float | None
    lon: float | None
    location_type: int
    parent_station: str | None


@dataclass
class ParsedFeed:
    """A feed that passed every check.

    ``route_stops`` holds the (route_id, stop_id) pairs served, or None when the
    feed has no trips.txt + stop_times.txt (which stops a route serves is unknown).
    """

    agencies: list[str]
    routes: list[ParsedRoute]
    stops: list[ParsedStop]
    route_stops: set[tuple[str, str]] | None
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def stations_count(self) -> int:
        return sum(1 for stop in self.stops if stop.location_type == STATION)


# --- Reading -------------------------------------------------------------------------------


class _FeedFiles:
    """The .txt files of a feed, in a folder or a zip (at its root or in one sub-folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if path.is_dir():
            return
        if not path.exists():
            raise FileNotFoundError(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise GtfsError(
                path.name, None, "is neither a folder nor a zip file of a GTFS feed"
            ) from None
        names = [name for name in self._zip.namelist() if not name.endswith("/")]
        # Zips made by hand often wrap the files in one folder: use the shallowest
        # folder that holds stops.txt.
        anchors = sorted(
            (name for name in names if name.rsplit("/", 1)[-1] == "stops.txt"),
            key=lambda name: name.count("/"),
        )
        prefix = anchors[0][: -len("stops.txt")] if anchors else ""
        for name in names:
            if name.startswith(prefix) and "/" not in name[len(prefix) :]:
                self._members[name[len(prefix) :]] = name

    def has(self, name: str) -> bool:
        if self._zip is None:
            return (self.path / name).is_file()
        return name in self._members

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if self._zip is None:
            with (self.path / name).open("rb") as stream:
                yield stream
        else:
            with self._zip.open(self._members[name]) as stream:
                yield stream

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _decoded_lines(name: str, stream: IO[bytes]) -> Iterator[str]:
    """The lines as text, decoded one by one so a bad byte is reported on its own line."""
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise GtfsError(name, number, "is not valid UTF-8 text") from None


class _Table:
    """One CSV file: its header's columns and its rows with their line numbers."""

    def __init__(self, name: str, stream: IO[bytes]) -> None:
        self.name = name
        self._reader = csv.reader(_decoded_lines(name, stream))
        header = self._next()
        if not header:
            raise GtfsError(name, 1, "the file is empty: the header line is missing")
        self.columns = {column.strip(): index for index, column in enumerate(header)}
        self.rows = 0

    def _next(self) -> list[str] | None:
        try:
            return next(self._reader, None)
        except csv.Error as exc:
            raise GtfsError(self.name, self._reader.line_num, f"malformed CSV ({exc})") from None

    def require(self, *columns: str) -> None:
        for column in columns:
            if column not in self.columns:
                raise GtfsError(self.name, 1, f"missing required column {column}")

    def index(self, column: str) -> int | None:
        return self.columns.get(column)

    def error(self, message: str) -> GtfsError:
        """An error on the row just read."""
        return GtfsError(self.name, self._reader.line_num, message)

    @property
    def line(self) -> int:
        return self._reader.line_num

    def __iter__(self) -> Iterator[list[str]]:
        while (row := self._next()) is not None:
            if row:  # not a blank line
                self.rows += 1
                yield row


def _get(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _identifier(table: _Table, column: str, value: str) -> str:
    if not value:
        raise table.error(f"{column} is empty")
    if len(value) > ID_MAX:
        raise table.error(f"{column} is longer than {ID_MAX} characters")
    return value


def _text(table: _Table, column: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise table.error(f"{column} is longer than {limit} characters")
    return value


def _coordinate(table: _Table, column: str, value: str, bound: float) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise table.error(f"{column} is not a number: {value!r}") from None
    if not (math.isfinite(number) and -bound <= number <= bound):
        raise table.error(f"{column} is out of range (-{bound:g} to {bound:g}): {value}")
    return number


def _read_agencies(table: _Table) -> dict[str, str]:
    """agency_id (possibly empty, when there is one agency) → agency_name."""
    table.require("agency_name")
    id_col, name_col = table.index("agency_id"), table.index("agency_name")
    lines: dict[str, int] = {}
    names: dict[str, str] = {}
    for row in table:
        agency_id = _get(row, id_col)
        if agency_id in lines:
            raise table.error(
                f"duplicate agency_id {agency_id!r} (first on line {lines[agency_id]})"
            )
        lines[agency_id] = table.line
        names[agency_id] = _get(row, name_col)
    if not names:
        raise GtfsError(table.name, None, "no agency is listed")
    return names


def _read_routes(table: _Table, agency_ids: set[str]) -> list[ParsedRoute]:
    table.require("route_id", "route_type")
    id_col, type_col = table.index("route_id"), table.index("route_type")
    short_col, long_col = table.index("route_short_name"), table.index("route_long_name")
    agency_col = table.index("agency_id")
    seen: dict[str, int] = {}
    routes: list[ParsedRoute] = []
    for row in table:
        route_id = _identifier(table, "route_id", _get(row, id_col))
        if route_id in seen:
            raise table.error(f"duplicate route_id {route_id!r} (first on line {seen[route_id]})")
        seen[route_id] = table.line
        raw_type = _get(row, type_col)
        try:
            route_type = int(raw_type)
        except ValueError:
            raise table.error(f"route_type is not an integer: {raw_type!r}") from None
        if route_type not in BASIC_ROUTE_TYPES and route_type not in EXTENDED_ROUTE_TYPES:
            raise table.error(
                f"unknown route_type {route_type} (GTFS: 0–7, 11, 12 or extended 100–1799)"
            )
        # agency_id is only required, and checked, when agency.txt lists several agencies.
        if len(agency_ids) > 1:
            agency_id = _get(row, agency_col)
            if not agency_id:
                raise table.error("agency_id is required: agency.txt lists several agencies")
            if agency_id not in agency_ids:
                raise table.error(f"agency_id {agency_id!r} is not in agency.txt")
        routes.append(
            ParsedRoute(
                route_id=route_id,
                short_name=_text(table, "route_short_name", _get(row, short_col), SHORT_NAME_MAX),
                long_name=_text(table, "route_long_name", _get(row, long_col), NAME_MAX),
                route_type=route_type,
            )
        )
    return routes


def _read_stops(table: _Table) -> list[ParsedStop]:
    table.require("stop_id", "stop_name", "stop_lat", "stop_lon")
    id_col, name_col = table.index("stop_id"), table.index("stop_name")
    lat_col, lon_col = table.index("stop_lat"), table.index("stop_lon")
    type_col, parent_col = table.index("location_type"), table.index("parent_station")
    lines: dict[str, int] = {}
    stops: list[ParsedStop] = []
    for row in table:
        stop_id = _identifier(table, "stop_id", _get(row, id_col))
        if stop_id in lines:
            raise table.error(f"duplicate stop_id {stop_id!r} (first on line {lines[stop_id]})")
        lines[stop_id] = table.line
        raw_type = _get(row, type_col) or "0"
        try:
            location_type = int(raw_type)
        except ValueError:
            location_type = -1
        if location_type not in LOCATION_TYPES:
            raise table.error(f"location_type must be 0 to 4, not {raw_type!r}")
        lat = _coordinate(table, "stop_lat", _get(row, lat_col), 90)
        lon = _coordinate(table, "stop_lon", _get(row, lon_col), 180)
        for column, value, other in (("stop_lat", lat, lon), ("stop_lon", lon, lat)):
            if value is None and location_type in LOCATED_TYPES:
                raise table.error(f"{column} is missing: a stop or station needs coordinates")
            if value is None and other is not None:
                raise table.error(f"{column} is missing while the other coordinate is given")
        parent = _get(row, parent_col) or None
        if parent is not None:
            _identifier(table, "parent_station", parent)
            if parent == stop_id:
                raise table.error(f"stop {stop_id!r} is its own parent_station")
        stops.append(
            ParsedStop(
                stop_id=stop_id,
                name=_text(table, "stop_name", _get(row, name_col), NAME_MAX),
                lat=lat,
                lon=lon,
                location_type=location_type,
                parent_station=parent,
            )
        )
    # Checked after reading them all: a parent station may come after its children.
    for stop in stops:
        if stop.parent_station is not None and stop.parent_station not in lines:
            raise GtfsError(
                table.name,
                lines[stop.stop_id],
                f"parent_station {stop.parent_station!r} is not a stop_id of stops.txt",
            )
    return stops


def _read_trips(table: _Table, route_ids: set[str]) -> dict[str, str]:
    table.require("route_id", "trip_id")
    route_col, trip_col = table.index("route_id"), table.index("trip_id")
    trips: dict[str, str] = {}
    for row in table:
        trip_id = _get(row, trip_col)
        if not trip_id:
            raise table.error("trip_id is empty")
        if trip_id in trips:
            raise table.error(f"duplicate trip_id {trip_id!r}")
        route_id = _get(row, route_col)
        if route_id not in route_ids:
            raise table.error(f"route_id {route_id!r} is not in routes.txt")
        trips[trip_id] = route_id
    return trips


def _read_stop_times(
    table: _Table, trips: dict[str, str], stop_ids: set[str], progress: Progress | None
) -> set[tuple[str, str]]:
    """The (route_id, stop_id) pairs served, streamed: only the pairs are kept."""
    table.require("trip_id", "stop_id")
    trip_col, stop_col = table.index("trip_id"), table.index("stop_id")
    pairs: set[tuple[str, str]] = set()
    for row in table:
        trip_id, stop_id = _get(row, trip_col), _get(row, stop_col)
        route_id = trips.get(trip_id)
        if route_id is None:
            raise table.error(f"trip_id {trip_id!r} is not in trips.txt")
        if stop_id not in stop_ids:
            raise table.error(f"stop_id {stop_id!r} is not in stops.txt")
        pairs.add((route_id, stop_id))
        if progress is not None and table.rows % PROGRESS_EVERY == 0:
            progress(table.name, table.rows)
    return pairs


def read_feed(path: Path, progress: Progress | None = None) -> ParsedFeed:
    """Read and check the feed in a folder or a .zip; raise ``GtfsError`` at the first fault.

    ``progress(file, rows)`` is called once per file read, and every
    ``PROGRESS_EVERY`` rows of stop_times.txt. trips.txt and stop_times.txt are
    optional, but stop_times.txt without trips.txt is refused: its trips could
    not be tied to routes.
    """
    files = _FeedFiles(path)
    counts: dict[str, int] = {}

    def table(name: str, read: Callable[[_Table], Any]) -> Any:
        with files.open(name) as stream:
            parsed = _Table(name, stream)
            result = read(parsed)
        counts[name] = parsed.rows
        # stop_times.txt may just have reported this very count.
        if progress is not None and not (
            name == "stop_times.txt" and parsed.rows and parsed.rows % PROGRESS_EVERY == 0
        ):
            progress(name, parsed.rows)
        return result

    try:
        for name in REQUIRED_FILES:
            if not files.has(name):
                raise GtfsError(name, None, "missing (a GTFS feed needs it)")
        if files.has("stop_times.txt") and not files.has("trips.txt"):
            raise GtfsError(
                "trips.txt", None, "missing: stop_times.txt needs it to tie stops to routes"
            )
        agencies: dict[str, str] = table("agency.txt", _read_agencies)
        agency_ids = set(agencies) if len(agencies) > 1 else set()
        routes: list[ParsedRoute] = table("routes.txt", lambda t: _read_routes(t, agency_ids))
        stops: list[ParsedStop] = table("stops.txt", _read_stops)
        route_stops: set[tuple[str, str]] | None = None
        if files.has("trips.txt"):
            route_ids = {route.route_id for route in routes}
            trips: dict[str, str] = table("trips.txt", lambda t: _read_trips(t, route_ids))
            if files.has("stop_times.txt"):
                stop_ids = {stop.stop_id for stop in stops}
                route_stops = table(
                    "stop_times.txt", lambda t: _read_stop_times(t, trips, stop_ids, progress)
                )
    finally:
        files.close()
    return ParsedFeed(
        agencies=list(agencies.values()),
        routes=routes,
        stops=stops,
        route_stops=route_stops,
        row_counts=counts,
    )
