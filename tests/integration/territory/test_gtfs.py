"""Importing GTFS feeds: the real Tisséo feed (read in place), our demo feeds, the CLI.

Database tests run on SQLite and on the real PostgreSQL (``database_url``).
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from intake_service.cli import main
from intake_service.demo import OPERATORS
from intake_service.models import GtfsFeed, GtfsStop
from intake_service.platform.db import Database
from intake_service.territory import gtfs
from intake_service.territory.gtfs import import_feed
from intake_service.territory.gtfs_feed import GtfsError, read_feed
from intake_service.territory.operators import add_operator
from tests.conftest import REFERENCE_INSTANT, TISSEO_GTFS, Clock

# The real feed is read where it lies: it is not ours to copy into the repository.
REAL_FEED = TISSEO_GTFS
DEMO_FEEDS = Path(__file__).parents[3] / "intake_service" / "demo" / "gtfs"
TISSEO_DEMO = DEMO_FEEDS / "tisseo-demo"
MISTRAL_DEMO = DEMO_FEEDS / "mistral-demo"
# The demo's own stops (demo:…) and the real Tisséo stops the example sheets name.
DEMO_STOP_IDS = {stop.stop_id for stop in read_feed(TISSEO_DEMO).stops}
DEMO_STOPS, DEMO_ROUTES = len(DEMO_STOP_IDS), len(read_feed(TISSEO_DEMO).routes)

needs_real_feed = pytest.mark.skipif(
    not REAL_FEED.is_dir(), reason=f"the real Tisséo feed is not at {REAL_FEED}"
)


def in_toulouse(lat: float, lon: float) -> str | None:
    """A stand-in for the commune index: Toulouse, except west of 1.43° (no commune)."""
    return "31555" if lon > 1.43 else None


@pytest.fixture
def database(database_url: str) -> Any:
    database = Database(database_url)
    with database.transaction() as session:
        for code, name in OPERATORS:
            add_operator(session, code, name, now=REFERENCE_INSTANT)
    yield database
    database.dispose()


def load(
    database: Database,
    operator: str,
    path: Path,
    commune_of: Callable[[float, float], str | None] = in_toulouse,
) -> GtfsFeed:
    feed = read_feed(path)
    with database.transaction() as session:
        return import_feed(
            session, operator, feed, source=str(path), now=REFERENCE_INSTANT, commune_of=commune_of
        )


def operator_id(database: Database, code: str) -> int:
    with database.transaction() as session:
        return gtfs.require_operator(session, code).id


def stop_ids(database: Database, code: str) -> set[str]:
    with database.transaction() as session:
        operator = gtfs.require_operator(session, code)
        return set(
            session.scalars(select(GtfsStop.stop_id).where(GtfsStop.operator_id == operator.id))
        )


def replace_field(path: Path, line: int, column: int, value: str) -> None:
    """Overwrite one field of one line (the real stops.txt has no quoted field)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert '"' not in lines[line - 1]
    fields = lines[line - 1].split(",")
    fields[column] = value
    lines[line - 1] = ",".join(fields)
    path.write_text("".join(lines), encoding="utf-8")


def copy_of_real_feed(tmp_path: Path) -> Path:
    copy = tmp_path / "broken-feed"
    shutil.copytree(REAL_FEED, copy)
    for file in copy.iterdir():
        file.chmod(0o644)  # the source files are read-only
    return copy


@needs_real_feed
def test_the_real_feed_is_imported_with_its_routes_stops_and_communes(
    database: Database, clock: Clock
) -> None:
    calls: list[tuple[str, int]] = []
    feed = read_feed(REAL_FEED, lambda file, rows: calls.append((file, rows)))
    assert calls == [
        ("agency.txt", 1),
        ("routes.txt", 125),
        ("stops.txt", 5569),
        ("trips.txt", 38719),
    ]
    with database.transaction() as session:
        record = import_feed(
            session,
            "tisseo",
            feed,
            source=str(REAL_FEED),
            now=clock(),
            commune_of=lambda lat, lon: "31555",
        )
        assert (record.routes_count, record.stops_count, record.route_stops_count) == (
            125,
            5569,
            0,
        )
        assert record.imported_at == clock()

    tisseo, mistral = operator_id(database, "tisseo"), operator_id(database, "mistral")
    with database.transaction() as session:
        capitole = gtfs.find_stop(session, tisseo, "stop_point:SP_1912")
        assert capitole is not None
        assert capitole.name == "Capitole"
        assert capitole.lat == pytest.approx(43.604428913867075)
        assert capitole.lon == pytest.approx(1.445573315589176)
        assert (capitole.location_type, capitole.parent_station) == (0, "stop_area:SA_1715")
        assert capitole.insee_code == "31555"
        assert gtfs.route_exists(session, tisseo, "line:61")  # metro A
        assert not gtfs.route_exists(session, tisseo, "line:999999")
        assert gtfs.has_feed(session, tisseo)
        assert not gtfs.has_feed(session, mistral)
        # No stop_times.txt in this feed: whether a route serves a stop is unknown.
        assert gtfs.route_serves_stop(session, tisseo, "line:61", "stop_point:SP_1912") is None
        summary = gtfs.feed_summary(session, tisseo)
        assert (summary.routes, summary.stops, summary.stations) == (125, 5569, 1810)
        assert (summary.with_commune, summary.without_commune) == (5569, 0)


@needs_real_feed
def test_the_real_feed_is_read_the_same_from_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "tisseo.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for file in REAL_FEED.glob("*.txt"):
            bundle.write(file, f"tisseo/{file.name}")
    zipped, folder = read_feed(archive), read_feed(REAL_FEED)
    assert (len(zipped.routes), len(zipped.stops)) == (125, 5569)
    assert zipped.stops == folder.stops
    assert zipped.routes == folder.routes


@needs_real_feed
def test_reimport_replaces_the_whole_feed_and_leaves_other_operators_alone(
    database: Database,
) -> None:
    load(database, "mistral", MISTRAL_DEMO)
    load(database, "tisseo", REAL_FEED)
    assert len(stop_ids(database, "tisseo")) == 5569

    record = load(database, "tisseo", TISSEO_DEMO)
    assert record.source == str(TISSEO_DEMO)
    assert (record.routes_count, record.stops_count, record.route_stops_count) == (
        DEMO_ROUTES,
        DEMO_STOPS,
        8,
    )
    # The demo's stops only: those of the real feed it does not hold are gone.
    assert set(stop_ids(database, "tisseo")) == DEMO_STOP_IDS
    tisseo = operator_id(database, "tisseo")
    with database.transaction() as session:
        assert gtfs.find_stop(session, tisseo, "stop_point:SP_1") is None
        assert not gtfs.route_exists(session, tisseo, "line:142")
        assert session.scalar(select(func.count()).select_from(GtfsFeed)) == 2
    assert len(stop_ids(database, "mistral")) == 6


def test_a_failing_import_leaves_the_previous_feed_whole(database: Database) -> None:
    load(database, "tisseo", TISSEO_DEMO)
    feed = read_feed(MISTRAL_DEMO)
    # Bypass the checks to make the inserts fail after the old rows were deleted.
    feed.stops.append(feed.stops[0])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), database.transaction() as session:
        import_feed(
            session,
            "tisseo",
            feed,
            source="broken",
            now=REFERENCE_INSTANT,
            commune_of=in_toulouse,
        )
    assert len(stop_ids(database, "tisseo")) == DEMO_STOPS
    with database.transaction() as session:
        record = session.scalars(select(GtfsFeed)).one()
        assert (record.source, record.stops_count) == (str(TISSEO_DEMO), DEMO_STOPS)


BROKEN_FEEDS: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "lat",
        lambda feed: replace_field(feed / "stops.txt", 1234, 3, "abc"),
        "stops.txt line 1234: stop_lat is not a number: 'abc'",
    ),
    (
        "duplicate",
        lambda feed: replace_field(feed / "stops.txt", 1234, 0, "stop_area:SA_1"),
        "stops.txt line 1234: duplicate stop_id 'stop_area:SA_1' (first on line 2)",
    ),
    (
        "parent",
        lambda feed: replace_field(feed / "stops.txt", 3000, 6, "stop_area:SA_0"),
        "stops.txt line 3000: parent_station 'stop_area:SA_0' is not a stop_id of stops.txt",
    ),
    ("no-routes", lambda feed: (feed / "routes.txt").unlink(), "routes.txt: missing"),
]


@needs_real_feed
@pytest.mark.parametrize(
    ("corrupt", "message"),
    [case[1:] for case in BROKEN_FEEDS],
    ids=[case[0] for case in BROKEN_FEEDS],
)
def test_a_broken_feed_is_refused_at_its_line_and_the_previous_feed_stays(
    database: Database, tmp_path: Path, corrupt: Callable[[Path], None], message: str
) -> None:
    load(database, "tisseo", TISSEO_DEMO)
    broken = copy_of_real_feed(tmp_path)
    corrupt(broken)
    with pytest.raises(GtfsError) as caught:
        load(database, "tisseo", broken)
    assert str(caught.value).startswith(message)
    assert len(stop_ids(database, "tisseo")) == DEMO_STOPS


def test_unknown_operator_says_how_to_add_it(database: Database) -> None:
    with pytest.raises(gtfs.UnknownOperator, match="intake-service operators add ratp --name"):
        load(database, "ratp", TISSEO_DEMO)


@pytest.mark.parametrize(
    ("route_id", "stop_id", "served"),
    [
        ("demo:A", "demo:SP_capitole_A", True),
        ("demo:A", "demo:SA_capitole", True),  # the station of a served platform
        ("demo:A", "demo:E_capitole", True),  # an entrance of that station
        ("demo:A", "demo:SP_jean-jaures_B", True),  # a sibling platform of a served one
        ("demo:A", "demo:SP_carmes_B", False),
        ("demo:A", "demo:SP_arenes", False),
        ("demo:14", "demo:SA_jeanne-darc", True),
        ("demo:14", "demo:SP_jeanne-darc_B", True),
        ("demo:14", "demo:SP_capitole_A", False),
        ("demo:A", "demo:nowhere", False),
        ("demo:Z", "demo:SP_capitole_A", None),  # a route without stop_times: unknown
    ],
)
def test_route_serves_stop_on_the_demo_feed(
    database: Database, route_id: str, stop_id: str, served: bool | None
) -> None:
    load(database, "tisseo", TISSEO_DEMO)
    with database.transaction() as session:
        tisseo = gtfs.require_operator(session, "tisseo").id
        assert gtfs.route_serves_stop(session, tisseo, route_id, stop_id) is served


def test_communes_of_stops_and_of_stops_without_coordinates(database: Database) -> None:
    load(database, "tisseo", TISSEO_DEMO)
    with database.transaction() as session:
        tisseo = gtfs.require_operator(session, "tisseo").id
        entrance = gtfs.find_stop(session, tisseo, "demo:E_capitole")
        arenes = gtfs.find_stop(session, tisseo, "demo:SP_arenes")
        assert entrance is not None
        assert arenes is not None
        # The entrance has no coordinates: it takes its station's commune.
        assert (entrance.lat, entrance.insee_code) == (None, "31555")
        assert arenes.insee_code is None
        summary = gtfs.feed_summary(session, tisseo)
        stations = sum(stop.location_type == 1 for stop in read_feed(TISSEO_DEMO).stops)
        assert (summary.stops, summary.stations, summary.route_stops) == (DEMO_STOPS, stations, 8)
        # Every stop is counted once, with or without its commune (the test's lookup knows
        # central Toulouse only; the entrance and Arènes are checked above).
        assert summary.with_commune + summary.without_commune == DEMO_STOPS
        assert summary.with_commune >= 13


def test_search_stops_by_name(database: Database) -> None:
    load(database, "tisseo", TISSEO_DEMO)
    with database.transaction() as session:
        tisseo = gtfs.require_operator(session, "tisseo").id

        def names(text: str, limit: int = 20) -> list[str]:
            # The demo's own stops (the real ones the examples name are Tisséo's too).
            found = gtfs.search_stops(session, tisseo, text, limit)
            return [stop.stop_id for stop in found if stop.stop_id.startswith("demo:")]

        assert names("CAP") == ["demo:SA_capitole", "demo:SP_capitole_A", "demo:E_capitole"]
        # Substring matches come after the names that start with the text.
        assert names("ar")[0] == "demo:SP_arenes"
        assert set(names("ar")) == {
            "demo:SP_arenes",
            "demo:SA_carmes",
            "demo:SP_carmes_B",
            "demo:SA_jeanne-darc",
            "demo:SP_jeanne-darc_B",
            "demo:SP_jeanne-darc_14",
        }
        assert len(names("jean", limit=2)) == 2
        assert names("%") == []
        assert names("  ") == []
        assert names("d'arc") == [
            "demo:SA_jeanne-darc",
            "demo:SP_jeanne-darc_14",
            "demo:SP_jeanne-darc_B",
        ]


# --- The command line -----------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The embedded mode, in a fresh instance folder, with the operators added."""
    env = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": "", "BROKER_URL": ""}
    assert run(env, "db", "upgrade").exit_code == 0
    for code, name in OPERATORS:
        assert run(env, "operators", "add", code, "--name", name).exit_code == 0
    return env


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@needs_real_feed
def test_cli_imports_the_real_feed_with_progress_and_real_communes(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run(env, "gtfs", "import", "--operator", "tisseo", str(REAL_FEED))
    assert result.exit_code == 0, result.output
    assert "stops.txt: 5,569 rows" in result.stderr
    assert "trips.txt: 38,719 rows" in result.stderr
    assert "125 routes, 5,569 stops (1,810 stations), 0 served route–stop pairs" in result.stdout
    assert "which stops each route serves is unknown" in result.stdout
    assert "communes found for 5,569 stops; 0 stops without commune" in result.stdout

    listing = run(env, "gtfs", "stops", "--operator", "tisseo", "Capitole")
    assert listing.exit_code == 0
    assert "stop_point:SP_1912\tCapitole\t31555" in listing.stdout.splitlines()

    broken = copy_of_real_feed(tmp_path)
    replace_field(broken / "stops.txt", 1234, 3, "abc")
    refused = run(env, "gtfs", "import", "--operator", "tisseo", str(broken))
    assert refused.exit_code == 2
    assert (
        "error: stops.txt line 1234: stop_lat is not a number: 'abc' — the previous feed is kept."
        in refused.stderr
    )
    still = run(env, "gtfs", "stops", "--operator", "tisseo", "Capitole")
    assert still.stdout == listing.stdout

    # The Toulon demo feed: its sea shuttle crosses to La Seyne-sur-Mer.
    mistral = run(env, "gtfs", "import", "--operator", "mistral", str(MISTRAL_DEMO))
    assert mistral.exit_code == 0, mistral.output
    assert "stop_times.txt: 12 rows" in mistral.stderr
    assert "6 stops (0 stations), 6 served route–stop pairs" in mistral.stdout
    seyne = run(env, "gtfs", "stops", "--operator", "mistral", "seyne")
    assert seyne.stdout == "demo:la-seyne-centre\tLa Seyne Centre\t83126\n"
    port = run(env, "gtfs", "stops", "--operator", "mistral", "du port")
    assert port.stdout == "demo:carre-du-port\tCarré du Port\t83137\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("gtfs", "import", "--operator", "ratp", str(TISSEO_DEMO)),
            "`intake-service operators add ratp --name NAME`",
        ),
        (
            ("gtfs", "import", "--operator", "tisseo", "/nowhere/feed.zip"),
            "/nowhere/feed.zip does not exist",
        ),
        (
            ("gtfs", "stops", "--operator", "tisseo", "cap"),
            "`intake-service gtfs import --operator tisseo PATH`",
        ),
        (("gtfs", "stops", "--operator", "ratp", "cap"), "operators add ratp"),
    ],
)
def test_cli_errors_say_what_to_do(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = run(env, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_refuses_a_feed_missing_a_file_and_keeps_the_previous_one(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The commune index is replaced by a fake: this test is about the feed.
    monkeypatch.setattr("intake_service.cli.gtfs.commune_lookup", lambda config: in_toulouse)
    assert run(env, "gtfs", "import", "--operator", "tisseo", str(TISSEO_DEMO)).exit_code == 0
    broken = tmp_path / "no-stops"
    shutil.copytree(TISSEO_DEMO, broken)
    (broken / "stops.txt").unlink()
    result = run(env, "gtfs", "import", "--operator", "tisseo", str(broken))
    assert result.exit_code == 2
    assert "error: stops.txt: missing (a GTFS feed needs it) — the previous feed is kept." in (
        result.stderr
    )
    listing = run(env, "gtfs", "stops", "--operator", "tisseo", "jaur")
    # The demo's station and its two platforms, and the real station an example names.
    assert listing.stdout.count("\n") == 4
    assert run(env, "gtfs", "stops", "--operator", "tisseo", "zzz").stderr == (
        "no stop of tisseo has 'zzz' in its name\n"
    )
