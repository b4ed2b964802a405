"""Linking cost per incident as open problems grow: the scope index against a scan.

Run: ``.venv/bin/python bench/linking.py [--levels 100,10000,100000] [--incidents 300]``

Fills a fresh PostgreSQL database (``bench_intake``, dropped at the end) with open
problems of random, realistic scopes around the real Tisséo stops (one to three stops,
a line, or a point and radius of 100–500 m; natures, sometimes days and hours; a few
network-wide ones), inserted in bulk with their index keys, in two layouts: ``country``
(Toulouse is one network of 300, the others are the same stops moved elsewhere in
France under other operators) and ``dense`` (every problem in Toulouse: the worst
case). For each level it measures, per incident at a random Toulouse stop:

  * indexed: what ``gpo.linker.relink_incident`` does to find the problems: one query of the
    candidates by the incident's keys (``problem_scope_keys``), then ``gpo_scope.match``
    on each candidate;
  * brute force (the baseline, same run): load every open problem's scope and
    ``match`` each.

Both must find the same problems (checked on every brute-force incident). Prints a
table (problems, indexed and brute µs/incident as medians, ratio, the indexed p99, the
mean candidates and matches per incident); progress on stderr.
Needs PostgreSQL (127.0.0.1:5432, ``BENCH_POSTGRES_URL``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed_latency import drop_database, prepare_database
from sqlalchemy import insert, select, text

from intake_service.gpo import linker
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.gpo.rules import scope as gpo_scope
from intake_service.gpo.rules.scope import IncidentFacts
from intake_service.models import Gpo, Problem, ProblemScopeKey
from intake_service.platform.db import Database
from intake_service.platform.migrate import upgrade
from intake_service.territory import gtfs_feed
from schemas.vocabulary import NATURES

SHARED = Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
TISSEO_GTFS = SHARED / "data" / "gtfs" / "toulouse-tisseo"
NOW = dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC)
DATABASE = "bench_linking"
LINKABLE = sorted(problem_lifecycle.LINKABLE_STATES)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Network:
    """The Tisséo stops (platforms with their station) and routes."""

    def __init__(self, feed: gtfs_feed.ParsedFeed) -> None:
        self.platforms = [
            s
            for s in feed.stops
            if s.location_type == 0 and s.lat is not None and s.lon is not None
        ]
        self.stations = sorted({s.parent_station for s in self.platforms if s.parent_station})
        self.routes = [route.route_id for route in feed.routes]


NETWORKS = 300  # the country layout: Toulouse and 299 networks elsewhere


def placement(layout: str, number: int, rng: random.Random) -> tuple[str, float, float]:
    """Where problem ``number`` lies: (operator, latitude shift, longitude shift).

    ``dense``: every problem around Toulouse (the worst case for the index: all of them
    in one city). ``country``: the first 100 in Toulouse, then Toulouse is one network
    in NETWORKS; the others are Tisséo's stops under another operator code, moved
    0.2° to 4° away (no overlap with Toulouse).
    """
    if layout == "dense" or number < 100:
        return "tisseo", 0.0, 0.0
    k = rng.randrange(NETWORKS)
    if k == 0:
        return "tisseo", 0.0, 0.0
    return f"net-{k}", -3.8 + 0.4 * (k % 20), -3.75 + 0.5 * (k // 20)


def random_scope(
    network: Network, rng: random.Random, operator: str, dlat: float, dlon: float
) -> dict[str, Any]:
    scope: dict[str, Any] = {"natures": rng.sample(NATURES, rng.choice((1, 1, 2, 3)))}
    kind = rng.random()
    if kind < 0.65:
        stops = rng.sample(network.platforms, rng.choice((1, 1, 2, 3)))
        scope["stops"] = [
            {"operator": operator, "stop_id": s.parent_station or s.stop_id} for s in stops
        ]
    elif kind < 0.90:
        centre = rng.choice(network.platforms)
        assert centre.lat is not None
        assert centre.lon is not None
        scope["point"] = {
            "lat": centre.lat + dlat,
            "lon": centre.lon + dlon,
            "radius_m": rng.choice((100, 200, 300, 500)),
        }
    elif kind < 0.999:
        scope["routes"] = [{"operator": operator, "route_id": rng.choice(network.routes)}]
    else:
        scope["operators"] = [operator]
    if rng.random() < 0.3:
        start = rng.randrange(24)
        scope["hours"] = {"from": start, "to": (start + rng.choice((4, 6, 8))) % 24}
    if rng.random() < 0.2:
        scope["weekdays"] = sorted(rng.sample(range(7), rng.randint(1, 5)))
    return scope


def random_incident(network: Network, rng: random.Random, number: int) -> IncidentFacts:
    stop = rng.choice(network.platforms)
    stop_ids = {stop.stop_id} | ({stop.parent_station} if stop.parent_station else set())
    assert stop.lat is not None
    assert stop.lon is not None
    return IncidentFacts(
        incident_id=f"bench-{number}",
        operator="tisseo",
        service_code="ddsp-31",
        route_id=rng.choice(network.routes) if rng.random() < 0.5 else None,
        stop_ids=frozenset(stop_ids),
        lat=stop.lat + rng.uniform(-0.001, 0.001),
        lon=stop.lon + rng.uniform(-0.001, 0.001),
        natures=frozenset(rng.sample(NATURES, rng.choice((1, 1, 2)))),
        occurred_at=NOW - dt.timedelta(minutes=rng.randrange(60 * 24 * 28)),
        priority="P3",
        has_staff_victim=False,
        injury_severity="none",
    )


def add_problems(
    db: Database, network: Network, first: int, last: int, layout: str, rng: random.Random
) -> int:
    """Insert open problems ``first``..``last - 1`` and their index keys, in bulk; the
    keys written."""
    keys_written = 0
    chunk = 5000
    for start in range(first, last, chunk):
        problems: list[dict[str, Any]] = []
        keys: list[dict[str, str]] = []
        for number in range(start, min(start + chunk, last)):
            problem_id = str(uuid.uuid4())
            scope = random_scope(network, rng, *placement(layout, number, rng))
            problems.append(
                {
                    "id": problem_id,
                    "gpo_code": "gpo-bench",
                    "title": "bench",
                    "description": "",
                    "state": rng.choice(("qualified", "analysis", "in_progress", "watch")),
                    "state_reason": None,
                    "referent": "bench",
                    "partners": [],
                    "scope": scope,
                    "watch_until": None,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "version": 1,
                }
            )
            keys.extend(
                {"key": key, "problem_id": problem_id} for key in gpo_scope.scope_keys(scope)
            )
        with db.transaction() as session:
            session.execute(insert(Problem), problems)
            session.execute(insert(ProblemScopeKey), keys)
        keys_written += len(keys)
    # Leave nothing for autovacuum to do while measuring.
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return keys_written


def indexed(db: Database, facts: IncidentFacts) -> tuple[set[str], int]:
    """The candidate lookup and match of ``gpo.linker.relink_incident``; (matches, candidates)."""
    with db.reading() as session:
        candidates = linker.candidate_problems(session, gpo_scope.incident_keys(facts))
        found = {
            p.id
            for p in candidates
            if p.state in problem_lifecycle.LINKABLE_STATES
            and gpo_scope.match(p.scope, facts) is not None
        }
    return found, len(candidates)


def brute(db: Database, facts: IncidentFacts) -> set[str]:
    """The baseline: every open problem's scope, matched one by one."""
    with db.reading() as session:
        rows = session.execute(
            select(Problem.id, Problem.scope).where(Problem.state.in_(LINKABLE))
        ).all()
        return {pid for pid, scope in rows if gpo_scope.match(scope, facts) is not None}


def timed(call: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter_ns()
    result = call(*args)
    return (time.perf_counter_ns() - started) / 1000, result


def measure_layout(
    layout: str, levels: list[int], network: Network, args: argparse.Namespace
) -> list[dict[str, Any]]:
    rng = random.Random(args.seed)
    url = prepare_database(DATABASE)
    results = []
    try:
        upgrade(url)
        db = Database(url)
        with db.transaction() as session:
            session.add(
                Gpo(
                    code="gpo-bench",
                    name="bench",
                    services=["ddsp-31"],
                    operators=["tisseo"],
                    auto_confirm_strong=False,
                    created_at=NOW,
                )
            )
        present = 0
        for level in levels:
            log(f"[{layout}] inserting problems {present + 1}–{level}…")
            started = time.perf_counter()
            keys = add_problems(db, network, present, level, layout, rng)
            present = level
            log(f"  {keys} index keys in {time.perf_counter() - started:.1f} s")
            incidents = [random_incident(network, rng, i) for i in range(args.incidents)]
            for facts in incidents[:20]:  # warm the connection pool and caches
                indexed(db, facts)
            log(f"  indexed: {len(incidents)} incidents…")
            indexed_us, candidates, matches = [], [], []
            for facts in incidents:
                micros, (found, candidate_count) = timed(indexed, db, facts)
                indexed_us.append(micros)
                candidates.append(candidate_count)
                matches.append(len(found))
            log("  brute force…")
            brute_us, disagreements = [], 0
            deadline = time.perf_counter() + args.brute_seconds
            for facts in incidents:
                micros, found = timed(brute, db, facts)
                brute_us.append(micros)
                disagreements += found != indexed(db, facts)[0]
                if time.perf_counter() > deadline and len(brute_us) >= 3:
                    break
            results.append(
                {
                    "layout": layout,
                    "problems": level,
                    "indexed": statistics.median(indexed_us),
                    "indexed_p99": sorted(indexed_us)[max(0, int(len(indexed_us) * 0.99) - 1)],
                    "brute": statistics.median(brute_us),
                    "brute_n": len(brute_us),
                    "candidates": statistics.mean(candidates),
                    "matches": statistics.mean(matches),
                    "disagreements": disagreements,
                }
            )
            log(f"  indexed {results[-1]['indexed']:.0f} µs, brute {results[-1]['brute']:.0f} µs")
        db.dispose()
    finally:
        drop_database(DATABASE)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="100,10000,100000", help="open problems, ascending")
    parser.add_argument(
        "--layouts", default="country,dense", help="where the problems lie (see placement)"
    )
    parser.add_argument("--incidents", type=int, default=300, help="indexed lookups per level")
    parser.add_argument(
        "--brute-seconds", type=float, default=20.0, help="time budget of the scan per level"
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]

    log("reading the Tisséo feed…")
    network = Network(gtfs_feed.read_feed(TISSEO_GTFS))
    results = [
        row
        for layout in args.layouts.split(",")
        for row in measure_layout(layout, levels, network, args)
    ]
    print(
        f"{'layout':<8} {'problems':>9} {'indexed µs/incident':>20} {'p99 µs':>8} "
        f"{'brute µs/incident':>18} {'ratio':>7} {'candidates':>11} {'matches':>8} "
        f"{'scans':>6} {'disagree':>9}"
    )
    for r in results:
        print(
            f"{r['layout']:<8} {r['problems']:>9} {r['indexed']:>20.0f} {r['indexed_p99']:>8.0f} "
            f"{r['brute']:>18.0f} {r['brute'] / r['indexed']:>6.0f}× {r['candidates']:>11.1f} "
            f"{r['matches']:>8.2f} {r['brute_n']:>6} {r['disagreements']:>9}"
        )


if __name__ == "__main__":
    main()
