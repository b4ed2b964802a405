"""Intake throughput on PostgreSQL: POST /api/v1/incidents against two baselines.

Runs, in the same run, under the same gunicorn settings and the same load
generator (wrk, closed loop, -t2 -c8 by default):
  * bare: a Flask endpoint answering 202 for the same body
    (bench/baseline_bare.py);
  * celery: the obvious alternative — the same body validated by a marshmallow
    schema (schemas.sheet.SheetSchema), one row inserted with the ORM, then
    `.delay()` on Celery with the same Redis (bench/baseline_celery.py);
  * service: the full POST /api/v1/incidents (validation, priority, routing,
    one transaction with the outbox).

Every request carries a unique operator_reference (the service refuses
duplicates): a wrk Lua script substitutes a thread id and a counter into the
body. Prints requests/s, p50/p99 latency and non-2xx count per case, then the
ratios service/celery and service/bare.

    .venv/bin/python bench/intake_throughput.py [--seconds 15] [--threads 2]
        [--connections 8] [--workers 2]

Needs wrk (`apt-get install -y wrk`), PostgreSQL (127.0.0.1:5432, database
`test` reachable) and Redis (127.0.0.1:6379; Celery uses db 5). Creates and
drops its own database `bench_intake`. The relay is not started: the outbox
rows stay in PostgreSQL, as the Celery messages stay in Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from feed_latency import (
    BIN,
    ROOT,
    SHEET,
    drop_database,
    free_port,
    log,
    prepare_database,
    wait_http,
)
from sqlalchemy import create_engine, text

CELERY_REDIS = os.environ.get("BENCH_CELERY_REDIS_URL", "redis://127.0.0.1:6379/5")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PLACEHOLDER = "__REFERENCE__"
DATABASE = "bench_intake"

# One Lua state per wrk thread: `setup` numbers the threads, `request` builds a
# body with a unique operator_reference, `response` counts non-2xx, and `done`
# prints one JSON line that the harness parses.
WRK_SCRIPT = """
local threads = {}
local counter = 0
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
end

function request()
  counter = counter + 1
  local reference = string.format("%s-%d-%d", prefix, id, counter)
  local body = string.gsub(template, "__REFERENCE__", reference)
  return wrk.format("POST", path, headers, body)
end

function response(status, resp_headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "non2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, non2xx_total, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_wrk_script(prefix: str, token: str | None) -> Path:
    body = json.dumps({**SHEET, "operator_reference": PLACEHOLDER}, ensure_ascii=False)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    lua_headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    preamble = (
        f"prefix = {lua_string(prefix)}\n"
        f'path = "/api/v1/incidents"\n'
        f"headers = {{{lua_headers}}}\n"
        f"template = [==[{body}]==]\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as handle:
        handle.write(preamble + WRK_SCRIPT)
    return Path(handle.name)


def run_wrk(
    name: str, port: int, token: str | None, args: argparse.Namespace, seconds: float
) -> dict[str, Any]:
    script = write_wrk_script(f"{name}-{uuid.uuid4().hex[:8]}", token)
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    try:
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    finally:
        script.unlink(missing_ok=True)
    line = next(line for line in output.splitlines() if line.startswith("WRK_RESULT "))
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    elapsed = raw["duration_us"] / 1e6
    return {
        "name": name,
        "requests": raw["requests"],
        "rps": raw["requests"] / elapsed,
        "ok_rps": (raw["requests"] - raw["non2xx"]) / elapsed,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non2xx": raw["non2xx"],
        "socket_errors": raw["socket_errors"],
    }


def load_reference_data(env: dict[str, str], service: str) -> str:
    """Migrate, add the operator and the police zone; return an operator token."""
    cli = str(BIN / "intake-service")

    def run(*arguments: str) -> str:
        done = subprocess.run(
            [cli, *arguments], env=env, check=True, capture_output=True, text=True
        )
        return done.stdout

    run("db", "upgrade")
    run("operators", "add", "tisseo", "--name", "Tisséo")
    zones_csv = Path(tempfile.gettempdir()) / f"{service}.csv"
    zones_csv.write_text(f"insee_code,service_code,service_name\n31555,{service},Bench\n")
    try:
        run("zones", "import", str(zones_csv))
    finally:
        zones_csv.unlink(missing_ok=True)
    output = run("tokens", "create", "--role", "operator", "--scope", "tisseo")
    return output.strip().splitlines()[-1]


def log_work_done(database: str) -> None:
    """Sanity check on stderr: the rows and the messages the measured requests left."""
    import redis

    engine = create_engine(database)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(query)).scalar_one()
            for table, query in (
                ("incidents", "SELECT count(*) FROM incidents"),
                ("outbox_events", "SELECT count(*) FROM outbox_events"),
                ("celery_incidents", "SELECT count(*) FROM celery_incidents"),
            )
        }
    engine.dispose()
    queued = redis.Redis.from_url(CELERY_REDIS).llen("celery")
    log(
        "left behind (warm-ups included): "
        + ", ".join(f"{table} {n}" for table, n in counts.items())
        + f", Celery messages in Redis {queued}"
    )


def purge_celery_queue() -> None:
    import redis

    redis.Redis.from_url(CELERY_REDIS).delete("celery")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="duration per case")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--worker-class", default="sync", choices=("sync", "gthread"), help="gunicorn worker class"
    )
    parser.add_argument("--worker-threads", type=int, default=4, help="threads per gthread worker")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")

    service = f"bench{uuid.uuid4().hex[:6]}-31"
    log("creating database bench_intake …")
    database = prepare_database(DATABASE)
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "BROKER_URL": REDIS,
        "CELERY_BROKER_URL": CELERY_REDIS,
        "SECRET_KEY": "bench",
        # The load generator is one address and one token: no abuse limits here.
        "RATE_LIMIT_SUBMISSION": "",
        "RATE_LIMIT_SUBMISSION_ADDRESS": "",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    processes: list[subprocess.Popen[bytes]] = []
    results = []
    try:
        log("migrating and loading reference data …")
        token = load_reference_data(env, service)
        from baseline_celery import create_table

        create_table(database)
        purge_celery_queue()

        gunicorn = [str(BIN / "gunicorn"), "--workers", str(args.workers)]
        gunicorn += ["--worker-class", args.worker_class, "--log-level", "warning"]
        if args.worker_class == "gthread":
            gunicorn += ["--threads", str(args.worker_threads)]
        apps = {
            "bare": ("baseline_bare:create_app()", None),
            "celery": ("baseline_celery:create_app()", None),
            "service": ("intake_service:create_app()", token),
        }
        ports = {}
        for name, (target, _) in apps.items():
            ports[name] = free_port()
            bind = ["--bind", f"127.0.0.1:{ports[name]}", "--chdir", str(ROOT / "bench")]
            processes.append(subprocess.Popen([*gunicorn, *bind, target], env=env))
        for port in ports.values():
            wait_http(f"http://127.0.0.1:{port}/")

        for name, (_, app_token) in apps.items():
            # Warm up: imports, connection pools, the commune index.
            log(f"[{name}] warming up 3 s …")
            run_wrk(f"warm-{name}", ports[name], app_token, args, 3)
            log(f"[{name}] wrk -t{args.threads} -c{args.connections} for {args.seconds:g} s …")
            result = run_wrk(name, ports[name], app_token, args, args.seconds)
            log(
                f"[{name}] {result['rps']:.1f} req/s, p50 {result['p50_ms']:.1f} ms, "
                f"non-2xx {result['non2xx']}"
            )
            results.append(result)
        log_work_done(database)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        purge_celery_queue()
        drop_database(DATABASE)

    print_table(args, results)


def print_table(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    print(
        f"\nPOST /api/v1/incidents on PostgreSQL, wrk -t{args.threads} -c{args.connections} "
        f"-d{args.seconds:g}s, gunicorn {args.workers} {args.worker_class} workers"
        + (f" × {args.worker_threads} threads" if args.worker_class == "gthread" else "")
    )
    columns = ("requests", "req/s", "2xx/s", "p50", "p99", "max", "non-2xx", "sock err")
    print(f"{'case':<10} " + " ".join(f"{c:>9}" for c in columns))
    for r in results:
        cells = [str(r["requests"]), f"{r['rps']:.1f}", f"{r['ok_rps']:.1f}"]
        cells += [f"{r[k]:.1f}ms" for k in ("p50_ms", "p99_ms", "max_ms")]
        cells += [str(r["non2xx"]), str(r["socket_errors"])]
        print(f"{r['name']:<10} " + " ".join(f"{c:>9}" for c in cells))
    by_name = {r["name"]: r for r in results}
    service = by_name["service"]
    for other in ("celery", "bare"):
        base = by_name[other]
        print(
            f"ratio service/{other}: throughput (2xx/s) {service['ok_rps'] / base['ok_rps']:.2f}, "
            f"p50 {service['p50_ms'] / base['p50_ms']:.2f}, "
            f"p99 {service['p99_ms'] / base['p99_ms']:.2f}"
        )


if __name__ == "__main__":
    main()
