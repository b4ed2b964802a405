"""Duplicate lookup cost per sheet as open incidents grow: the time-window index against a scan.

Run: ``.venv/bin/python bench/duplicates.py [--levels 100,10000,100000] [--sheets 300]``

Fills a fresh PostgreSQL database (``bench_duplicates``, dropped at the end) with open
incidents at the real Tisséo stops, inserted in bulk: a share of them (``--share``, one
in a hundred: a hundred services in the country) for the Toulouse service (``ddsp-31``),
the others for 99 other services, received over the last seven days (incidents stay
open while a patrol is out, a sheet waits for its closing). For
each level it measures, per new sheet at a random Toulouse stop in the last hour:

  * indexed: what intake does (``intake.duplicates.find_candidates``): one query on
    ``ix_incidents_service_occurred`` (the service's incidents within the window), then
    the rules on that handful;
  * scan (the baseline, same run): every open incident of the service, compared one by
    one with the same rules.

Both must find the same candidates (checked on every scanned sheet). Prints a table
(open incidents, indexed and scan µs per sheet as medians, the ratio, the indexed p99,
the mean candidates per sheet); progress on stderr. Needs PostgreSQL (127.0.0.1:5432,
``BENCH_POSTGRES_URL``).
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

from intake_service.intake import duplicates
from intake_service.intake.rules.duplicates import Settings, compare
from intake_service.models import Incident, Operator
from intake_service.platform.db import Database
from intake_service.platform.migrate import upgrade
from intake_service.territory import gtfs_feed
from schemas.vocabulary import NATURES, OPEN_STATUSES

SHARED = Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
TISSEO_GTFS = SHARED / "data" / "gtfs" / "toulouse-tisseo"
NOW = dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC)
DATABASE = "bench_duplicates"
SERVICES = [f"ddsp-{n:02d}" for n in range(1, 100)]
SETTINGS = Settings()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sheet_at(stop: gtfs_feed.ParsedStop, rng: random.Random, routes: list[str]) -> dict[str, Any]:
    assert stop.lat is not None
    assert stop.lon is not None
    nature = rng.choice(NATURES)
    return {
        "natures": [nature],
        "primary_nature": nature,
        "location": {
            "mode": 3,
            "place": "platform",
            "stop_id": stop.stop_id,
            "route_id": rng.choice(routes),
            "direction_id": rng.randrange(2),
            "vehicle_id": str(rng.randrange(1000, 2000)),
            "coordinates": {
                "lat": stop.lat + rng.uniform(-0.001, 0.001),
                "lon": stop.lon + rng.uniform(-0.001, 0.001),
                "accuracy_m": 20,
                "source": "gps",
            },
        },
    }


def add_incidents(
    db: Database,
    operator_id: int,
    stops: list[gtfs_feed.ParsedStop],
    routes: list[str],
    first: int,
    last: int,
    rng: random.Random,
    recent: list[dict[str, Any]],
    share: float,
) -> None:
    """Insert open incidents ``first``..``last - 1`` in bulk; keep in ``recent`` those of
    ddsp-31 of the last hour (a new sheet may report the same event)."""
    chunk = 5000
    for start in range(first, last, chunk):
        rows = []
        for number in range(start, min(start + chunk, last)):
            sheet = sheet_at(rng.choice(stops), rng, routes)
            received = NOW - dt.timedelta(seconds=rng.randrange(7 * 24 * 3600))
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "operator_id": operator_id,
                    "operator_reference": f"BENCH-{number}",
                    "received_at": received,
                    "updated_at": received,
                    "occurred_at": received - dt.timedelta(minutes=rng.randrange(10)),
                    "status": rng.choice(OPEN_STATUSES),
                    "priority": rng.choice(("P1", "P2", "P3", "P4")),
                    "priority_rank": 0,
                    "priority_reason": "bench",
                    "state": "over",
                    "primary_nature": sheet["primary_nature"],
                    "version": 1,
                    "sheet": sheet,
                    "warnings": [],
                    "service_code": "ddsp-31" if rng.random() < share else rng.choice(SERVICES),
                    "event_sequence": 1,
                }
            )
        with db.transaction() as session:
            session.execute(insert(Incident), rows)
        recent.extend(
            row
            for row in rows
            if row["service_code"] == "ddsp-31" and NOW - row["occurred_at"] < dt.timedelta(hours=1)
        )
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def new_sheet(
    operator: Operator,
    stops: list[gtfs_feed.ParsedStop],
    routes: list[str],
    rng: random.Random,
    recent: list[dict[str, Any]],
) -> Incident:
    """A sheet being accepted (not in the database), as ``submit_incident`` has it: half
    of them a second report of a recent incident (its place and nature, minutes later)."""
    if recent and rng.random() < 0.5:
        twin = rng.choice(recent)
        sheet = twin["sheet"]
        occurred = twin["occurred_at"] + dt.timedelta(minutes=rng.randrange(1, 5))
    else:
        sheet = sheet_at(rng.choice(stops), rng, routes)
        occurred = NOW - dt.timedelta(minutes=rng.randrange(60))
    return Incident(
        id=str(uuid.uuid4()),
        operator_id=operator.id,
        operator=operator,
        occurred_at=occurred,
        received_at=NOW,
        status="received",
        priority="P2",
        primary_nature=sheet["primary_nature"],
        sheet=sheet,
        service_code="ddsp-31",
    )


def indexed(db: Database, incident: Incident) -> set[str]:
    with db.reading() as session:
        return {other.id for other, _ in duplicates.find_candidates(session, incident, SETTINGS)}


def scan(db: Database, incident: Incident) -> set[str]:
    """The baseline: every open incident of the service, compared one by one."""
    with db.reading() as session:
        others = session.scalars(
            select(Incident).where(
                Incident.service_code == incident.service_code,
                Incident.status.in_(OPEN_STATUSES),
            )
        ).all()
        new = duplicates.report_of(incident, {})
        return {
            other.id
            for other in others
            if compare(new, duplicates.report_of(other, {}), SETTINGS) is not None
        }


def timed(call: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter_ns()
    result = call(*args)
    return (time.perf_counter_ns() - started) / 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="100,10000,100000", help="open incidents, ascending")
    parser.add_argument("--sheets", type=int, default=300, help="indexed lookups per level")
    parser.add_argument(
        "--scan-seconds", type=float, default=20.0, help="time budget of the scan per level"
    )
    parser.add_argument(
        "--share", type=float, default=0.01, help="the Toulouse service's share of the incidents"
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    rng = random.Random(args.seed)

    log("reading the Tisséo feed…")
    feed = gtfs_feed.read_feed(TISSEO_GTFS)
    stops = [s for s in feed.stops if s.location_type == 0 and s.lat is not None]
    routes = [route.route_id for route in feed.routes]
    url = prepare_database(DATABASE)
    results = []
    try:
        upgrade(url)
        db = Database(url)
        with db.transaction() as session:
            session.add(Operator(code="tisseo", name="Tisséo", created_at=NOW))
        with db.reading() as session:
            operator = session.scalars(select(Operator)).one()
            session.expunge(operator)
        present = 0
        recent: list[dict[str, Any]] = []
        for level in levels:
            log(f"inserting open incidents {present + 1}–{level}…")
            add_incidents(db, operator.id, stops, routes, present, level, rng, recent, args.share)
            present = level
            sheets = [new_sheet(operator, stops, routes, rng, recent) for _ in range(args.sheets)]
            for sheet in sheets[:20]:  # warm the pool and the caches
                indexed(db, sheet)
            log(f"  indexed: {len(sheets)} sheets…")
            indexed_us, candidates = [], []
            for sheet in sheets:
                micros, found = timed(indexed, db, sheet)
                indexed_us.append(micros)
                candidates.append(len(found))
            log("  scan…")
            scan_us, disagreements = [], 0
            deadline = time.perf_counter() + args.scan_seconds
            for sheet in sheets:
                micros, found = timed(scan, db, sheet)
                scan_us.append(micros)
                disagreements += found != indexed(db, sheet)
                if time.perf_counter() > deadline and len(scan_us) >= 3:
                    break
            row = {
                "incidents": level,
                "indexed": statistics.median(indexed_us),
                "p99": sorted(indexed_us)[max(0, int(len(indexed_us) * 0.99) - 1)],
                "scan": statistics.median(scan_us),
                "scans": len(scan_us),
                "candidates": statistics.mean(candidates),
                "disagreements": disagreements,
            }
            results.append(row)
            log(f"  indexed {row['indexed']:.0f} µs, scan {row['scan']:.0f} µs")
        db.dispose()
    finally:
        drop_database(DATABASE)
    print(
        f"{'open incidents':>14} {'indexed µs/sheet':>17} {'p99 µs':>8} {'scan µs/sheet':>14} "
        f"{'scan/indexed':>13} {'candidates':>11} {'scans':>6} {'disagree':>9}"
    )
    for row in results:
        print(
            f"{row['incidents']:>14,} {row['indexed']:>17,.0f} {row['p99']:>8,.0f} "
            f"{row['scan']:>14,.0f} {row['scan'] / row['indexed']:>12.1f}× "
            f"{row['candidates']:>11.2f} {row['scans']:>6} {row['disagreements']:>9}"
        )
    if any(row["disagreements"] for row in results):
        sys.exit("the indexed lookup and the scan disagree")


if __name__ == "__main__":
    main()
