"""Peak memory of the streamed incident export as the rows grow: 10,000 against 100,000.

Run: ``.venv/bin/python bench/incident_export.py [--rows 100000] [--baseline-rows 10000]
[--backend sqlite|postgresql]`` (``BENCH_BACKEND``; PostgreSQL at ``BENCH_POSTGRES_URL``,
default 127.0.0.1:5432, in a database ``bench_incident_export`` dropped at the end).

Seeds ``--rows`` incidents of one operator in Toulouse (ddsp-31), inserted in bulk
(Core ``INSERT`` of 5,000 rows at a time): a full sheet each (with its planted
identities, about 2 kB of JSON), received 1,000 a day from 1 January 2026, each
acknowledged, dispatched and closed (three status changes). Then, in the same run, with
``tracemalloc`` tracing every Python allocation:

  * streamed, baseline: ``GET /api/v1/incidents/export.csv`` of the first
    ``--baseline-rows`` rows' days, read chunk by chunk as a WSGI server sends them
    (``buffered=False``), the bytes counted and dropped;
  * streamed: the same request over every day (``--rows`` rows);
  * loaded (the naive export, for comparison): the same query with ``.all()``, then
    the whole CSV written into one string.

Bounded memory means the streamed peaks are about equal (ratio ≈ 1) whatever the rows,
while the loaded one grows with them. Prints the peaks, the ratios and the rows per
second (under tracemalloc: slower than for real); progress on stderr.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from sqlalchemy import create_engine, insert, select, text

from intake_service import create_app
from intake_service.access.tokens import create_token
from intake_service.models import Incident, Operator, StatusChange
from intake_service.platform.config import Config
from intake_service.platform.migrate import upgrade
from intake_service.reporting import incident_export
from intake_service.reporting.rules import incident_columns, periods
from intake_service.territory.operators import add_operator
from tests.factories import a_sheet

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
DATABASE = "bench_incident_export"
FIRST_DAY = dt.date(2026, 1, 1)
PER_DAY = 1000
CHUNK = 5000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite'}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return POSTGRES.rsplit("/", 1)[0] + "/" + DATABASE


def drop(backend: str) -> None:
    if backend == "postgresql":
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        admin.dispose()


def seed(app: Any, rows: int, now: dt.datetime) -> str:
    """``rows`` closed incidents of tisseo, 1,000 a day; the operator's bearer header."""
    db = app.extensions["intake.db"]
    with db.transaction() as session:
        add_operator(session, "tisseo", "Tisséo", now=now)
        secret = create_token(session, "operator", "tisseo", "bench", now=now).secret
    with db.transaction() as session:
        operator_id = session.scalar(select(Operator.id).where(Operator.code == "tisseo"))
    sheet = a_sheet()
    sheet["location"]["insee_code"] = "31555"
    started = time.perf_counter()
    for start in range(0, rows, CHUNK):
        incidents, changes = [], []
        for number in range(start, min(start + CHUNK, rows)):
            day, minute = divmod(number, PER_DAY)
            received = periods.paris_midnight(FIRST_DAY + dt.timedelta(days=day)) + dt.timedelta(
                seconds=minute * 80
            )
            incident_id = str(uuid.uuid4())
            incidents.append(
                {
                    "id": incident_id,
                    "operator_id": operator_id,
                    "operator_reference": f"BENCH-{number}",
                    "received_at": received,
                    "updated_at": received,
                    "occurred_at": received - dt.timedelta(minutes=5),
                    "acknowledged_at": received + dt.timedelta(minutes=1),
                    "status": "closed",
                    "priority": "P3",
                    "priority_rank": 0,
                    "priority_reason": "bench",
                    "state": "over",
                    "primary_nature": sheet["primary_nature"],
                    "version": 1,
                    "sheet": sheet,
                    "warnings": [],
                    "service_code": "ddsp-31",
                    "insee_code": "31555",
                    "event_sequence": 1,
                }
            )
            for status, minutes, detail in (
                ("acknowledged", 1, {}),
                ("dispatched", 4, {"call_sign": "TV31"}),
                ("closed", 40, {"outcome": "arrest", "comment": "Interpellation"}),
            ):
                changes.append(
                    {
                        "incident_id": incident_id,
                        "status": status,
                        "at": received + dt.timedelta(minutes=minutes),
                        "author_role": "command_centre",
                        "author": "bench",
                        "detail": detail,
                    }
                )
        with db.transaction() as session:
            session.execute(insert(Incident), incidents)
            session.execute(insert(StatusChange), changes)
        log(f"  seeded {min(start + CHUNK, rows):,} / {rows:,} incidents")
    log(f"seeded in {time.perf_counter() - started:.1f} s")
    if not db.is_sqlite:
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE")
            )
    return f"Bearer {secret}"


def measured(call: Callable[[], int]) -> tuple[int, float, int]:
    """(peak bytes traced, seconds, rows) of ``call``."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        rows = call()
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, elapsed, rows


def streamed(app: Any, token: str, days: int) -> Callable[[], int]:
    last = FIRST_DAY + dt.timedelta(days=days - 1)
    url = f"/api/v1/incidents/export.csv?from={FIRST_DAY}&to={last}"

    def run() -> int:
        client = app.test_client()
        response = client.get(url, headers={"Authorization": token}, buffered=False)
        assert response.status_code == 200, response.get_data(as_text=True)
        lines = 0
        try:
            for piece in response.response:
                data = piece if isinstance(piece, bytes) else piece.encode()
                lines += data.count(b"\n")
        finally:
            response.close()
        return lines - 1  # the header

    return run


def loaded(app: Any, days: int) -> Callable[[], int]:
    """The naive export: every row loaded with ``.all()``, the CSV built in one string."""
    period = periods.Period(FIRST_DAY, FIRST_DAY + dt.timedelta(days=days - 1))

    def run() -> int:
        db = app.extensions["intake.db"]
        with db.reading() as session:
            scope = incident_export.operator_scope(session, "tisseo")
            values = session.execute(incident_export.statement(scope, period)).all()
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(incident_columns.COLUMNS)
            for row in values:
                writer.writerow(incident_columns.row(incident_export._facts(row)))
            text_body = buffer.getvalue()
        return text_body.count("\n") - 1

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=10_000)
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("BENCH_BACKEND", "sqlite"),
    )
    args = parser.parse_args()
    if args.rows % PER_DAY or args.baseline_rows % PER_DAY or args.baseline_rows > args.rows:
        parser.error(f"--rows and --baseline-rows: multiples of {PER_DAY}, baseline ≤ rows")
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as folder:
        url = prepare(args.backend, Path(folder))
        try:
            log(f"migrating {args.backend} …")
            upgrade(url)
            config = Config(
                instance_path=Path(folder) / "instance",
                database_url=url,
                broker_url="memory://",
                redis_url=None,
                secret_key="bench",  # noqa: S106 - a throwaway app of the bench
                embedded=False,
            )
            app = create_app(config, clock=lambda: now)
            token = seed(app, args.rows, now)
            cases = [
                (
                    f"streamed, {args.baseline_rows:,} rows (baseline)",
                    streamed(app, token, args.baseline_rows // PER_DAY),
                ),
                (f"streamed, {args.rows:,} rows", streamed(app, token, args.rows // PER_DAY)),
                (f"loaded with .all(), {args.rows:,} rows", loaded(app, args.rows // PER_DAY)),
            ]
            # One request first: what the first one loads once (imports, compiled
            # statements) is no part of either peak.
            streamed(app, token, 1)()
            results = []
            for name, call in cases:
                log(f"measuring: {name} …")
                results.append((name, *measured(call)))
            app.extensions["intake.db"].dispose()
        finally:
            drop(args.backend)
    base_peak = results[0][1]
    print(
        f"\nbackend {args.backend}, chunks of {incident_export.CHUNK_ROWS:,} rows, "
        "tracemalloc peaks"
    )
    print(f"{'case':<40} {'rows':>9} {'peak MiB':>9} {'× baseline':>10} {'rows/s':>9}")
    for name, peak, elapsed, rows in results:
        print(
            f"{name:<40} {rows:>9,} {peak / 2**20:>9.1f} {peak / base_peak:>10.2f} "
            f"{rows / elapsed:>9,.0f}"
        )


if __name__ == "__main__":
    main()
