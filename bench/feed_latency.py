"""End-to-end latency of the direct line: HTTP POST of a sheet → message on the feed consumer.

Runs, in the same run and under the same gunicorn settings and load generator:
  * the service: POST /api/v1/incidents (validation, priority, routing, one
    transaction with the outbox) on PostgreSQL, the relay publishing to Redis;
  * the baseline: a bare Flask endpoint publishing the body straight to Redis
    (bench/baseline_direct_publish.py), no validation, no database, no outbox.

At a fixed offered rate (open loop: requests leave on schedule whether or not
earlier ones have answered), it reports accepted requests per second and the
p50 / p99 / max latency from the moment the client sends to the moment a kombu
consumer on feed.<service> receives the message, and the ratios to the baseline.

    .venv/bin/python bench/feed_latency.py [--rate 100] [--seconds 20] [--workers 2]

Needs PostgreSQL (127.0.0.1:5432, database `test` reachable) and Redis
(127.0.0.1:6379). Creates and drops its own database `bench_intake`.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from kombu import Connection
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SHEET = json.loads((ROOT / "examples" / "sheets" / "valid" / "p4-depot-tags.json").read_text())
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class FeedWatcher:
    """Consumes feed.<service> and notes when each operator_reference arrives."""

    def __init__(self, service: str) -> None:
        from intake_service.messaging import feed_queue

        self.received: dict[str, float] = {}
        self.connection = Connection(REDIS)
        self.queue = feed_queue(service)(self.connection.default_channel)
        self.queue.declare()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_message(self, body: Any, message: Any) -> None:
        arrived = time.perf_counter()
        envelope = json.loads(body) if isinstance(body, str | bytes) else body
        reference = envelope["payload"]["incident"]["operator_reference"]
        self.received.setdefault(reference, arrived)
        message.ack()

    def _run(self) -> None:
        with self.connection.Consumer([self.queue], callbacks=[self._on_message], accept=["json"]):
            while not self.stop.is_set():
                try:
                    self.connection.drain_events(timeout=0.2)
                except TimeoutError:
                    continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.queue.delete()
        self.connection.release()


def offered_load(
    url: str, headers: dict[str, str], rate: float, seconds: float, prefix: str
) -> dict[str, Any]:
    """Send rate × seconds sheets on schedule; return send times and HTTP outcomes."""
    total = int(rate * seconds)
    sent: dict[str, float] = {}
    http_ms: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    local = threading.local()

    def one(index: int, due: float) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        reference = f"{prefix}-{index}"
        body = {**SHEET, "operator_reference": reference}
        started = time.perf_counter()
        try:
            response = session.post(url, json=body, headers=headers, timeout=30)
            status = response.status_code
        except requests.RequestException:
            status = 0
        with lock:
            sent[reference] = started
            http_ms.append((time.perf_counter() - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter() + 0.5
    with ThreadPoolExecutor(max_workers=64) as pool:
        for index in range(total):
            pool.submit(one, index, start + index / rate)
    elapsed = time.perf_counter() - start
    return {"sent": sent, "http_ms": http_ms, "statuses": statuses, "elapsed": elapsed}


def measure(
    name: str, url: str, headers: dict[str, str], service: str, rate: float, seconds: float
) -> dict[str, Any]:
    watcher = FeedWatcher(service)
    watcher.thread.start()
    log(f"[{name}] offering {rate:.0f}/s for {seconds:.0f} s …")
    load = offered_load(url, headers, rate, seconds, f"{name}-{uuid.uuid4().hex[:6]}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(watcher.received) < len(load["sent"]):
        time.sleep(0.1)
    watcher.close()
    latencies = [
        (watcher.received[ref] - started) * 1000
        for ref, started in load["sent"].items()
        if ref in watcher.received
    ]
    accepted = sum(n for status, n in load["statuses"].items() if 200 <= status < 300)
    return {
        "name": name,
        "offered": len(load["sent"]),
        "accepted": accepted,
        "delivered": len(latencies),
        "throughput": accepted / load["elapsed"],
        "http_p50": percentile(load["http_ms"], 0.5),
        "http_p99": percentile(load["http_ms"], 0.99),
        "e2e_p50": percentile(latencies, 0.5) if latencies else float("nan"),
        "e2e_p99": percentile(latencies, 0.99) if latencies else float("nan"),
        "e2e_max": max(latencies) if latencies else float("nan"),
        "statuses": load["statuses"],
    }


def drop_database() -> None:
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "bench_intake" WITH (FORCE)'))
    admin.dispose()


def prepare_database() -> str:
    """A new, empty ``bench_intake`` database (an earlier run's is dropped first)."""
    drop_database()
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('CREATE DATABASE "bench_intake"'))
    admin.dispose()
    return POSTGRES.rsplit("/", 1)[0] + "/bench_intake"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="offered requests per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    service = f"bench{uuid.uuid4().hex[:6]}-31"
    database = prepare_database()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "BROKER_URL": REDIS,
        "SECRET_KEY": "bench",
        # The load generator is one address and one token: no abuse limits here.
        "RATE_LIMIT_SUBMISSION": "",
        "RATE_LIMIT_SUBMISSION_ADDRESS": "",
        "BENCH_SERVICE": service,
    }
    cli = str(BIN / "intake-service")
    log("migrating and loading reference data …")
    subprocess.run([cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [cli, "operators", "add", "tisseo", "--name", "Tisséo"],
        env=env,
        check=True,
        capture_output=True,
    )
    zones_csv = Path(tempfile.gettempdir()) / f"{service}.csv"
    zones_csv.write_text(f"insee_code,service_code,service_name\n31555,{service},Bench\n")
    subprocess.run(
        [cli, "zones", "import", str(zones_csv)], env=env, check=True, capture_output=True
    )
    token = (
        subprocess.run(
            [cli, "tokens", "create", "--role", "operator", "--scope", "tisseo"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    headers = {"Authorization": f"Bearer {token}"}

    processes: list[subprocess.Popen[bytes]] = []
    results = []
    try:
        service_port, baseline_port = free_port(), free_port()
        gunicorn = [
            str(BIN / "gunicorn"),
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ]
        processes.append(
            subprocess.Popen(
                [*gunicorn, "--bind", f"127.0.0.1:{service_port}", "intake_service:create_app()"],
                env=env,
            )
        )
        processes.append(
            subprocess.Popen([cli, "workers", "relay"], env=env, stderr=subprocess.DEVNULL)
        )
        processes.append(
            subprocess.Popen(
                [
                    *gunicorn,
                    "--bind",
                    f"127.0.0.1:{baseline_port}",
                    "--chdir",
                    str(ROOT / "bench"),
                    "baseline_direct_publish:create_app()",
                ],
                env=env,
            )
        )
        wait_http(f"http://127.0.0.1:{service_port}/healthz")
        wait_http(f"http://127.0.0.1:{baseline_port}/")
        # Warm up both (imports, connection pools, the commune index).
        measure(
            "warm-up", f"http://127.0.0.1:{service_port}/api/v1/incidents", headers, service, 20, 2
        )
        results.append(
            measure(
                "baseline: direct publish",
                f"http://127.0.0.1:{baseline_port}/api/v1/incidents",
                {},
                service,
                args.rate,
                args.seconds,
            )
        )
        results.append(
            measure(
                "service: outbox + relay",
                f"http://127.0.0.1:{service_port}/api/v1/incidents",
                headers,
                service,
                args.rate,
                args.seconds,
            )
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        zones_csv.unlink(missing_ok=True)
        drop_database()

    print_table(args, results)


def print_table(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    print(
        f"\nHTTP POST → feed consumer, offered {args.rate:.0f}/s for {args.seconds:.0f} s, "
        f"gunicorn {args.workers} sync workers, PostgreSQL + Redis"
    )
    columns = ("offered", "accepted", "delivered", "req/s", "http p50", "http p99")
    columns += ("e2e p50", "e2e p99", "e2e max")
    print(f"{'case':<26} " + " ".join(f"{c:>9}" for c in columns))
    for r in results:
        cells = [
            str(r["offered"]),
            str(r["accepted"]),
            str(r["delivered"]),
            f"{r['throughput']:.1f}",
        ]
        cells += [
            f"{r[k]:.1f}ms" for k in ("http_p50", "http_p99", "e2e_p50", "e2e_p99", "e2e_max")
        ]
        print(f"{r['name']:<26} " + " ".join(f"{c:>9}" for c in cells))
    baseline, service = results
    throughput = service["throughput"] / baseline["throughput"]
    print(
        f"\nratios service/baseline: throughput {throughput:.2f}, "
        f"e2e p50 {service['e2e_p50'] / baseline['e2e_p50']:.2f}, "
        f"e2e p99 {service['e2e_p99'] / baseline['e2e_p99']:.2f}"
    )


if __name__ == "__main__":
    main()
