"""End-to-end latency of the direct line: HTTP POST of a sheet → message on the feed consumer.

Runs, in the same run and under the same gunicorn settings and load generator
(choose with ``--cases``, default all three):
  * ``direct`` — baseline: a bare Flask endpoint publishing the body straight to
    Redis (bench/baseline_direct_publish.py), no validation, no database, no
    outbox; the consumer is a kombu consumer on feed.<service>;
  * ``celery`` — baseline: the obvious alternative, end to end: the body
    validated by ``schemas.sheet.SheetSchema``, inserted with the ORM, then
    ``.delay()`` on Celery with the same Redis (bench/baseline_celery_e2e.py);
    the consumer is a real Celery worker process (``--pool solo``) whose task
    stamps its receipt;
  * ``service`` — POST /api/v1/incidents (validation, priority, routing, one
    transaction with the outbox) on PostgreSQL, the relay publishing to Redis,
    a kombu consumer on feed.<service>.

At a fixed offered rate (open loop: requests leave on schedule whether or not
earlier ones have answered), it reports accepted requests per second and the
p50 / p99 / max latency from the moment the client sends to the moment the
consumer receives the message, and the ratios service/Celery and service/direct.

``--burst``: R/s for ``--before`` s, then 10×R/s for ``--burst-seconds``, then
R/s for ``--after`` s; it reports the latency of the sheets sent during the
burst, how long the backlog takes to drain (the last burst sheet consumed; the
first moment after the burst from which every sheet sent is back under 2× the
steady p99), and sends one P1 sheet during the burst once the consumer's queue
holds messages (or at 70 % of the burst if it never does): did it reach the
consumer ahead of the P4s accepted before it was sent? (``--seconds`` is not used
there: ``--before``, ``--burst-seconds``, ``--after``.) In burst mode each
consumer spends ``--consumer-ms`` (default 10) per message after stamping it,
so that a backlog can form in the broker queue, where priority applies.

    .venv/bin/python bench/feed_latency.py [--rate 100] [--seconds 20] [--workers 2]
        [--cases direct,celery,service]
    .venv/bin/python bench/feed_latency.py --burst --rate 50 [--burst-seconds 3]

Needs PostgreSQL (127.0.0.1:5432, database `test` reachable) and Redis
(127.0.0.1:6379; Celery uses db 6). Creates and drops its own database
`bench_feed_latency`. Clocks: ``time.perf_counter()`` everywhere (CLOCK_MONOTONIC on
Linux, one clock for every process of the machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
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

import redis
import requests
from kombu import Connection
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VALID = ROOT / "examples" / "sheets" / "valid"
SHEET = json.loads((VALID / "p4-depot-tags.json").read_text())
P1_SHEET = json.loads((VALID / "p1-driver-assaulted-on-board.json").read_text())
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_REDIS = os.environ.get("BENCH_CELERY_REDIS_URL", "redis://127.0.0.1:6379/6")
# Its own database, not the other benches' `bench_intake`: they may run meanwhile.
DATABASE = "bench_feed_latency"
CASES = {
    "direct": "baseline: direct publish",
    "celery": "baseline: Celery e2e",
    "service": "service: outbox + relay",
}
# kombu's Redis transport keeps one list per priority step: name, name\x06\x163, …
PRIORITY_SEPARATOR = "\x06\x16"


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
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def current_p1(reference: str) -> dict[str, Any]:
    """The P1 example sheet, happening now (in progress, two minutes ago)."""
    occurred = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    return {
        **P1_SHEET,
        "operator_reference": reference,
        "occurred_at": occurred.isoformat(timespec="seconds"),
    }


def queue_depth(client: redis.Redis, name: str) -> int:
    keys = [name] + [f"{name}{PRIORITY_SEPARATOR}{step}" for step in (3, 6, 9)]
    return int(sum(client.llen(key) for key in keys))


def drop_broker_queues(namespace: str, service: str) -> None:
    """Delete what a bench run left on Redis: the service's feed queues and, in the run's
    namespace, the service's own consumers' queues (no linker nor booking worker reads
    them during a bench: they would keep every event)."""
    from intake_service.feed.topology import (
        INTERNAL_CONSUMERS,
        feed_queue,
        internal_queue,
        parked_queue,
    )

    queues = [feed_queue(service), feed_queue(service, namespace)]
    for name in INTERNAL_CONSUMERS:
        queues += [internal_queue(name, namespace), parked_queue(name, namespace)]
    try:
        with Connection(REDIS) as connection:
            for queue in queues:
                bound = queue(connection.default_channel)
                bound.declare()  # kombu unbinds only the bindings it knows of
                bound.delete()  # the queue's lists and its bindings
    except Exception as error:  # noqa: BLE001 - cleanup only
        log(f"could not delete the bench's queues: {error}")


class FeedWatcher:
    """Consumes feed.<service>; notes when each operator_reference arrives, and in what order."""

    def __init__(self, service: str, consumer_ms: float = 0.0, namespace: str = "") -> None:
        from intake_service.feed.topology import feed_queue, feed_queue_name

        self.received: dict[str, float] = {}
        self.order: list[str] = []
        self.consumer_seconds = consumer_ms / 1000
        self.queue_name = feed_queue_name(service, namespace)
        self.redis = redis.Redis.from_url(REDIS)
        self.connection = Connection(REDIS)
        self.queue = feed_queue(service, namespace)(self.connection.default_channel)
        self.queue.declare()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def depth(self) -> int:
        return queue_depth(self.redis, self.queue_name)

    def _on_message(self, body: Any, message: Any) -> None:
        arrived = time.perf_counter()
        envelope = json.loads(body) if isinstance(body, str | bytes) else body
        reference = envelope["payload"]["incident"]["operator_reference"]
        if reference not in self.received:
            self.received[reference] = arrived
            self.order.append(reference)
        if self.consumer_seconds:
            time.sleep(self.consumer_seconds)
        message.ack()

    def _run(self) -> None:
        channel = self.connection.default_channel
        channel.basic_qos(0, 1, False)  # one message at a time, as a careful consumer takes them
        with self.connection.Consumer(
            [self.queue], callbacks=[self._on_message], accept=["json"], channel=channel
        ):
            while not self.stop.is_set():
                try:
                    self.connection.drain_events(timeout=0.2)
                except TimeoutError:
                    continue

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.queue.delete()
        self.connection.release()


class CeleryWatcher:
    """Reads the receipts the Celery worker's task stamps (bench/baseline_celery_e2e.py)."""

    def __init__(self) -> None:
        from baseline_celery_e2e import RECEIPTS

        self.key = RECEIPTS
        self.received: dict[str, float] = {}
        self.order: list[str] = []
        self.redis = redis.Redis.from_url(CELERY_REDIS)
        self.redis.delete(self.key)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def depth(self) -> int:
        return queue_depth(self.redis, "celery")

    def _run(self) -> None:
        while not self.stop.is_set():
            item = self.redis.blpop([self.key], timeout=0.2)
            if item is None:
                continue
            reference, arrived = json.loads(item[1])
            if reference not in self.received:
                self.received[reference] = float(arrived)
                self.order.append(reference)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.redis.delete(self.key)


class Case:
    def __init__(
        self, key: str, url: str, headers: dict[str, str], service: str, namespace: str = ""
    ) -> None:
        self.key = key
        self.name = CASES[key]
        self.url = url
        self.headers = headers
        self.service = service
        # The broker namespace its feed is in (the service's run has its own).
        self.namespace = namespace

    def watcher(self, consumer_ms: float = 0.0) -> FeedWatcher | CeleryWatcher:
        if self.key == "celery":
            return CeleryWatcher()
        return FeedWatcher(self.service, consumer_ms, self.namespace)


def schedule_steady(rate: float, seconds: float) -> list[float]:
    return [index / rate for index in range(int(rate * seconds))]


def schedule_burst(rate: float, before: float, burst: float, after: float) -> list[float]:
    offsets = [index / rate for index in range(int(rate * before))]
    offsets += [before + index / (10 * rate) for index in range(int(10 * rate * burst))]
    offsets += [before + burst + index / rate for index in range(int(rate * after))]
    return offsets


def offered_load(
    case: Case,
    offsets: list[float],
    prefix: str,
    threads: int,
    start: float | None = None,
) -> dict[str, Any]:
    """Send a sheet at each offset (s) from now, open loop; note send and answer times."""
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    http_ms: list[float] = []
    lag_ms: list[float] = []
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
            response = session.post(case.url, json=body, headers=case.headers, timeout=60)
            status = response.status_code
        except requests.RequestException:
            status = 0
        done = time.perf_counter()
        with lock:
            sent[reference] = started
            if 200 <= status < 300:
                answered[reference] = done
            http_ms.append((done - started) * 1000)
            lag_ms.append((started - due) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter() + 0.5 if start is None else start
    threading.Thread(target=_tick, args=(case.name, start, offsets[-1], sent), daemon=True).start()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for index, offset in enumerate(offsets):
            pool.submit(one, index, start + offset)
    elapsed = time.perf_counter() - start
    return {
        "start": start,
        "sent": sent,
        "answered": answered,
        "http_ms": http_ms,
        "lag_ms": lag_ms,
        "statuses": statuses,
        "elapsed": elapsed,
    }


def _tick(name: str, start: float, last: float, sent: dict[str, float]) -> None:
    while time.perf_counter() < start + last + 1:
        time.sleep(5)
        log(f"  [{name}] t={time.perf_counter() - start:5.1f} s, {len(sent)} answered")


def wait_delivered(watcher: FeedWatcher | CeleryWatcher, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(watcher.received) < expected:
        time.sleep(0.1)


def measure(case: Case, rate: float, seconds: float, threads: int) -> dict[str, Any]:
    watcher = case.watcher()
    watcher.start()
    log(f"[{case.name}] offering {rate:.0f}/s for {seconds:.0f} s …")
    load = offered_load(
        case, schedule_steady(rate, seconds), f"{case.key}-{uuid.uuid4().hex[:6]}", threads
    )
    wait_delivered(watcher, len(load["answered"]), 60)
    watcher.close()
    latencies = [
        (watcher.received[ref] - started) * 1000
        for ref, started in load["sent"].items()
        if ref in watcher.received
    ]
    accepted = len(load["answered"])
    result = {
        "name": case.name,
        "key": case.key,
        "offered": len(load["sent"]),
        "accepted": accepted,
        "delivered": len(latencies),
        "throughput": accepted / load["elapsed"],
        "http_p50": percentile(load["http_ms"], 0.5),
        "http_p99": percentile(load["http_ms"], 0.99),
        "send_lag_max": max(load["lag_ms"]),
        "e2e_p50": percentile(latencies, 0.5),
        "e2e_p99": percentile(latencies, 0.99),
        "e2e_max": max(latencies) if latencies else float("nan"),
        "statuses": load["statuses"],
    }
    log(
        f"[{case.name}] accepted {accepted}/{result['offered']} ({result['throughput']:.1f}/s), "
        f"e2e p50 {result['e2e_p50']:.1f} ms, p99 {result['e2e_p99']:.1f} ms"
    )
    return result


def measure_burst(case: Case, args: argparse.Namespace, threads: int) -> dict[str, Any]:
    """Steady R, 10×R for a few seconds, R again; one P1 during the burst."""
    rate, before, burst, after = args.rate, args.before, args.burst_seconds, args.after
    watcher = case.watcher(args.consumer_ms)
    watcher.start()
    prefix = f"{case.key}-{uuid.uuid4().hex[:6]}"
    offsets = schedule_burst(rate, before, burst, after)
    p1: dict[str, Any] = {"reference": f"{prefix}-P1"}
    session = requests.Session()
    origin: dict[str, float] = {}

    def send_p1() -> None:
        # Wait for the load to start, then for a backlog in the consumer's queue.
        while "start" not in origin:
            time.sleep(0.01)
        burst_start = origin["start"] + before
        latest = burst_start + 0.7 * burst
        while time.perf_counter() < burst_start:
            time.sleep(0.005)
        depth = watcher.depth()
        while depth < args.p1_depth and time.perf_counter() < latest:
            time.sleep(0.02)
            depth = watcher.depth()
        p1["depth"] = depth
        p1["consumed_before_send"] = len(watcher.order)
        p1["sent"] = time.perf_counter()
        response = session.post(
            case.url, json=current_p1(p1["reference"]), headers=case.headers, timeout=60
        )
        p1["answered"] = time.perf_counter()
        p1["status"] = response.status_code
        if case.key == "service" and response.ok:
            p1["priority"] = response.json().get("priority")

    log(
        f"[{case.name}] burst: {rate:.0f}/s for {before:g} s, {10 * rate:.0f}/s for {burst:g} s, "
        f"{rate:.0f}/s for {after:g} s; consumer {args.consumer_ms:g} ms per message …"
    )
    p1_thread = threading.Thread(target=send_p1, daemon=True)
    p1_thread.start()

    origin["start"] = time.perf_counter() + 0.5
    load = offered_load(case, offsets, prefix, threads, start=origin["start"])
    p1_thread.join(timeout=120)
    wait_delivered(watcher, len(load["answered"]) + 1, 120)
    watcher.close()
    start = load["start"]
    burst_start, burst_end = start + before, start + before + burst
    sent = load["sent"]

    def latency(ref: str) -> float | None:
        return (watcher.received[ref] - sent[ref]) * 1000 if ref in watcher.received else None

    phases: dict[str, list[str]] = {"before": [], "burst": [], "after": []}
    for ref, at in sent.items():
        phase = "before" if at < burst_start else "burst" if at < burst_end else "after"
        phases[phase].append(ref)
    steady = [v for ref in phases["before"] if (v := latency(ref)) is not None]
    during = [v for ref in phases["burst"] if (v := latency(ref)) is not None]
    steady_p99 = percentile(steady, 0.99)
    burst_receipts = [watcher.received[ref] for ref in phases["burst"] if ref in watcher.received]
    drained = (
        (max(burst_receipts) - burst_end)
        if len(burst_receipts) == len(phases["burst"]) and burst_receipts
        else None
    )
    # The first send time after the burst from which every sheet is back under 2× steady p99.
    after_sorted = sorted(phases["after"], key=lambda ref: sent[ref])
    recovered = None
    for ref in reversed(after_sorted):
        value = latency(ref)
        if value is None or value >= 2 * steady_p99:
            break
        recovered = sent[ref] - burst_end
    if recovered is not None and after_sorted and recovered == sent[after_sorted[0]] - burst_end:
        recovered = max(0.0, recovered)
    # The P1: where it sits in consumption order against the P4s before it.
    ref = p1["reference"]
    if ref in watcher.received and "sent" in p1:
        rank = {r: i for i, r in enumerate(watcher.order)}
        position = rank[ref]
        late = len(watcher.order) + 1  # never consumed: after the P1

        def consumed_after_p1(refs: list[str]) -> int:
            return sum(1 for r in refs if rank.get(r, late) > position)

        sent_before = [r for r, at in sent.items() if at < p1["sent"]]
        accepted_before = [r for r, at in load["answered"].items() if at < p1["sent"]]
        # Committed before the P1 was: in the outbox or the queue ahead of it.
        committed_before = [r for r, at in load["answered"].items() if at < p1["answered"]]
        p1.update(
            latency=(watcher.received[ref] - p1["sent"]) * 1000,
            http=(p1["answered"] - p1["sent"]) * 1000,
            position=position,
            sent_before=len(sent_before),
            overtook_sent=consumed_after_p1(sent_before),
            accepted_before=len(accepted_before),
            waiting_accepted=sum(
                1 for r in accepted_before if rank.get(r, late) >= p1["consumed_before_send"]
            ),
            overtook_accepted=consumed_after_p1(accepted_before),
            committed_before=len(committed_before),
            waiting_committed=sum(
                1
                for r in committed_before
                if r not in watcher.received or watcher.received[r] > p1["answered"]
            ),
            overtook_committed=consumed_after_p1(committed_before),
        )
    accepted = len(load["answered"])
    result = {
        "name": case.name,
        "key": case.key,
        "offered": len(sent),
        "accepted": accepted,
        "delivered": len(watcher.received),
        "send_lag_max": max(load["lag_ms"]),
        "steady_p50": percentile(steady, 0.5),
        "steady_p99": steady_p99,
        "burst_n": len(phases["burst"]),
        "burst_p50": percentile(during, 0.5),
        "burst_p99": percentile(during, 0.99),
        "burst_max": max(during) if during else float("nan"),
        "drained": drained,
        "recovered": recovered,
        "p1": p1,
    }
    log(
        f"[{case.name}] burst p99 {result['burst_p99']:.0f} ms, drained "
        f"{'never' if drained is None else f'{drained:.1f} s'} after the burst; P1 {p1}"
    )
    return result


def drop_database(name: str = DATABASE) -> None:
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def prepare_database(name: str = DATABASE) -> str:
    """A new, empty database ``name`` (an earlier run's is dropped first); its URL."""
    drop_database(name)
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


def purge_celery() -> None:
    client = redis.Redis.from_url(CELERY_REDIS)
    for key in ["celery"] + [f"celery{PRIORITY_SEPARATOR}{step}" for step in (3, 6, 9)]:
        client.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="offered requests per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--cases", default="direct,celery,service", help="comma-separated: direct, celery, service"
    )
    parser.add_argument("--burst", action="store_true", help="steady, 10× for a while, steady")
    parser.add_argument("--before", type=float, default=5.0, help="burst mode: steady seconds")
    parser.add_argument("--burst-seconds", type=float, default=3.0, help="burst mode: 10× seconds")
    parser.add_argument("--after", type=float, default=15.0, help="burst mode: steady seconds")
    parser.add_argument(
        "--consumer-ms",
        type=float,
        default=None,
        help="consumer work per message after its stamp (default 0; 10 in burst mode)",
    )
    parser.add_argument(
        "--p1-depth", type=int, default=5, help="burst mode: queue depth that triggers the P1"
    )
    parser.add_argument(
        "--client-threads",
        type=int,
        default=None,
        help="load generator threads (default: peak rate, 64–512)",
    )
    args = parser.parse_args()
    if args.consumer_ms is None:
        args.consumer_ms = 10.0 if args.burst else 0.0
    chosen = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(chosen) - set(CASES)
    if unknown:
        raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")
    order = [key for key in CASES if key in chosen]
    peak = args.rate * (10 if args.burst else 1)
    threads = args.client_threads or int(min(512, max(64, peak)))
    sys.path.insert(0, str(ROOT / "bench"))

    service = f"bench{uuid.uuid4().hex[:6]}-31"
    namespace = f"bench{uuid.uuid4().hex[:6]}"
    database = prepare_database()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "BROKER_URL": REDIS,
        # The service's queues in a namespace of this run, deleted at its end.
        "BROKER_NAMESPACE": namespace,
        "CELERY_BROKER_URL": CELERY_REDIS,
        "SECRET_KEY": "bench",
        # The load generator is one address and one token: no abuse limits here.
        "RATE_LIMIT_SUBMISSION": "",
        "RATE_LIMIT_SUBMISSION_ADDRESS": "",
        "BENCH_SERVICE": service,
        "BENCH_CONSUMER_MS": str(args.consumer_ms),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
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
    from baseline_celery_e2e import create_table

    create_table(database)
    purge_celery()

    processes: list[subprocess.Popen[bytes]] = []
    results = []
    try:
        gunicorn = [str(BIN / "gunicorn"), "--workers", str(args.workers)]
        gunicorn += ["--worker-class", "sync", "--log-level", "warning"]
        gunicorn += ["--chdir", str(ROOT / "bench")]
        targets = {
            "direct": "baseline_direct_publish:create_app()",
            "celery": "baseline_celery_e2e:create_app()",
            "service": "intake_service:create_app()",
        }
        cases = {}
        for key in order:
            port = free_port()
            processes.append(
                subprocess.Popen([*gunicorn, "--bind", f"127.0.0.1:{port}", targets[key]], env=env)
            )
            headers = {"Authorization": f"Bearer {token}"} if key == "service" else {}
            cases[key] = Case(
                key,
                f"http://127.0.0.1:{port}/api/v1/incidents",
                headers,
                service,
                namespace if key == "service" else "",
            )
        if "service" in cases:
            processes.append(
                subprocess.Popen([cli, "workers", "relay"], env=env, stderr=subprocess.DEVNULL)
            )
        if "celery" in cases:
            # The CLI reads BROKER_URL (the service's Redis db) unless told: --broker.
            celery = [str(BIN / "celery"), "-A", "baseline_celery_e2e", "--broker", CELERY_REDIS]
            celery += ["worker", "--pool", "solo", "--concurrency", "1", "--loglevel", "warning"]
            celery += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
            processes.append(
                subprocess.Popen(celery, env=env, cwd=ROOT / "bench", stdout=subprocess.DEVNULL)
            )
        for case in cases.values():
            wait_http(case.url.rsplit("/api/", 1)[0] + "/")
        for case in cases.values():
            # Warm up: imports, connection pools, the commune index, the Celery worker.
            log(f"[{case.name}] warming up …")
            measure(case, 20, 2, 64)
        for case in cases.values():
            if args.burst:
                results.append(measure_burst(case, args, threads))
            else:
                results.append(measure(case, args.rate, args.seconds, threads))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        zones_csv.unlink(missing_ok=True)
        purge_celery()
        drop_broker_queues(namespace, service)
        drop_database()

    if args.burst:
        print_burst(args, results)
    else:
        print_table(args, results)


def ratio_lines(results: list[dict[str, Any]], keys: tuple[str, ...]) -> list[str]:
    by_key = {r["key"]: r for r in results}
    lines = []
    if "service" in by_key:
        service = by_key["service"]
        for other in ("celery", "direct"):
            if other in by_key:
                base = by_key[other]
                cells = ", ".join(f"{k} {service[k] / base[k]:.2f}" for k in keys if base[k])
                lines.append(f"ratio service/{other}: {cells}")
    return lines


def print_table(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    print(
        f"\nHTTP POST → consumer, offered {args.rate:.0f}/s for {args.seconds:.0f} s, "
        f"gunicorn {args.workers} sync workers, PostgreSQL + Redis"
    )
    columns: tuple[str, ...] = ("offered", "accepted", "delivered", "acc/s", "http p50", "http p99")
    columns += ("e2e p50", "e2e p99", "e2e max", "send lag")
    print(f"{'case':<26} " + " ".join(f"{c:>9}" for c in columns))
    for r in results:
        cells = [str(r["offered"]), str(r["accepted"]), str(r["delivered"])]
        cells += [f"{r['throughput']:.1f}"]
        cells += [
            f"{r[k]:.1f}ms"
            for k in ("http_p50", "http_p99", "e2e_p50", "e2e_p99", "e2e_max", "send_lag_max")
        ]
        print(f"{r['name']:<26} " + " ".join(f"{c:>9}" for c in cells))
    print("(send lag: the most a request left after its scheduled time)")
    for line in ratio_lines(results, ("throughput", "e2e_p50", "e2e_p99", "e2e_max")):
        print(line)


def print_burst(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    print(
        f"\nBurst: {args.rate:.0f}/s for {args.before:g} s, {10 * args.rate:.0f}/s for "
        f"{args.burst_seconds:g} s, {args.rate:.0f}/s for {args.after:g} s; gunicorn "
        f"{args.workers} sync workers; consumer {args.consumer_ms:g} ms per message"
    )
    columns: tuple[str, ...] = (
        "offered",
        "accepted",
        "steady p99",
        "burst p50",
        "burst p99",
        "burst max",
    )
    columns += ("drained", "recovered")
    print(f"{'case':<26} " + " ".join(f"{c:>10}" for c in columns))
    for r in results:
        cells = [str(r["offered"]), str(r["accepted"])]
        cells += [f"{r[k]:.0f}ms" for k in ("steady_p99", "burst_p50", "burst_p99", "burst_max")]
        cells += ["never" if r[k] is None else f"{r[k]:.1f}s" for k in ("drained", "recovered")]
        print(f"{r['name']:<26} " + " ".join(f"{c:>10}" for c in cells))
    print(
        "drained: from the end of the burst to the last burst sheet consumed; recovered: from "
        "the end of the burst to the first send after which every sheet is under 2× steady p99"
    )
    for line in ratio_lines(results, ("burst_p50", "burst_p99", "burst_max")):
        print(line)
    print("\nP1 sent during the burst:")
    for r in results:
        p1 = r["p1"]
        if "position" not in p1:
            print(f"  {r['name']}: P1 not delivered ({p1})")
            continue
        print(
            f"  {r['name']}: queue depth {p1['depth']} at send, HTTP {p1['status']}"
            f"{' ' + str(p1.get('priority')) if p1.get('priority') else ''} in "
            f"{p1['http']:.0f} ms, e2e {p1['latency']:.0f} ms, consumed "
            f"#{p1['position'] + 1}.\n    P4s sent before it: {p1['sent_before']}, consumed "
            f"after it: {p1['overtook_sent']}. Accepted before it was sent: "
            f"{p1['accepted_before']}, of which {p1['waiting_accepted']} not yet consumed then, "
            f"consumed after it: {p1['overtook_accepted']}. Accepted before its own answer: "
            f"{p1['committed_before']}, of which {p1['waiting_committed']} not yet consumed "
            f"then, consumed after it: {p1['overtook_committed']}"
        )


if __name__ == "__main__":
    main()
