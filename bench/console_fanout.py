"""The live console under fan-out: POST of a sheet → its event on every connected console.

Starts the service with the production gunicorn settings (deploy/gunicorn.conf.py:
gthread workers, one per core; WEB_THREADS raised so that every server-sent
event stream gets its thread), the relay, a command-centre account for the
bench's police service, and opens the console's live stream (``/console/flux``,
the signed-in user's session cookie) N times over raw sockets, all read by one
selector thread that stamps each event on arrival. Then it submits sheets over
HTTP at a fixed rate and measures, per sheet, the time from sending the POST to
the event arriving on every console (the slowest of them), and on the first.

Cases, in the same run, same server:
  * baseline: 1 console — what a single stream costs;
  * fan-out: ``--consoles`` consoles (200).
The ratio of the two says what the fan-out costs.

    .venv/bin/python bench/console_fanout.py [--consoles 200] [--sheets 50] [--rate 5]

Needs PostgreSQL (127.0.0.1:5432, database `test` reachable) and Redis
(127.0.0.1:6379). Creates and drops its own database `bench_console_fanout`.
Clock: ``time.perf_counter()`` (client side only).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from feed_latency import (
    drop_broker_queues,
    drop_database,
    free_port,
    log,
    percentile,
    prepare_database,
    wait_http,
)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SHEET = json.loads((ROOT / "examples" / "sheets" / "valid" / "p4-depot-tags.json").read_text())
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE = "bench_console_fanout"
PASSWORD = uuid.uuid4().hex  # a throw-away account in a throw-away database


def sign_in(base: str, email: str) -> str:
    """Sign in through the form (CSRF token included); the session cookie's value.

    The cookie is ``Secure`` outside the embedded mode, so a client honouring that
    would not send it over plain HTTP: the value is carried by hand.
    """
    page = requests.get(f"{base}/connexion", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on /connexion")
    cookie = page.cookies.get("intake_session")
    answer = requests.post(
        f"{base}/connexion",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Cookie": f"intake_session={cookie}"},
        allow_redirects=False,
        timeout=10,
    )
    signed = answer.cookies.get("intake_session")
    if answer.status_code != 302 or not signed:
        raise SystemExit(f"sign-in failed: {answer.status_code} {answer.text[:200]}")
    return str(signed)


class Consoles:
    """N live streams on raw sockets, read by one selector thread; stamps each event."""

    def __init__(self, port: int, cookie: str, count: int) -> None:
        self.arrivals: dict[str, dict[int, float]] = {}
        self.opened = 0
        self.selector = selectors.DefaultSelector()
        self.buffers: dict[int, bytes] = {}
        self.stop = threading.Event()
        request = (
            "GET /console/flux HTTP/1.0\r\nHost: 127.0.0.1\r\n"
            f"Cookie: intake_session={cookie}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        self.sockets = []
        for index in range(count):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(request)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, index)
            self.buffers[index] = b""
            self.sockets.append(sock)
        self.started: set[int] = set()
        self.closed: set[int] = set()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                arrived = time.perf_counter()
                index = key.data
                try:
                    chunk = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                if not chunk:
                    self.selector.unregister(key.fileobj)
                    self.closed.add(index)
                    continue
                buffer = self.buffers[index] + chunk
                *events, rest = buffer.split(b"\n\n")
                self.buffers[index] = rest
                for raw in events:
                    if b"retry:" in raw:
                        self.started.add(index)
                    for line in raw.split(b"\n"):
                        if line.startswith(b"data: "):
                            incident = json.loads(line[6:]).get("id")
                            self.arrivals.setdefault(incident, {}).setdefault(index, arrived)

    def wait_open(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.started) < len(self.sockets):
            time.sleep(0.1)
        if len(self.started) < len(self.sockets):
            raise SystemExit(
                f"only {len(self.started)} of {len(self.sockets)} streams opened "
                f"({len(self.closed)} closed)"
            )

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def measure(
    name: str, base: str, port: int, cookie: str, token: str, consoles: int, args: Any
) -> dict[str, Any]:
    log(f"[{name}] opening {consoles} console stream(s) …")
    streams = Consoles(port, cookie, consoles)
    streams.wait_open()
    time.sleep(1)
    log(f"[{name}] submitting {args.sheets} sheets at {args.rate:g}/s …")
    session = requests.Session()
    sent: dict[str, float] = {}
    http_ms: list[float] = []
    prefix = uuid.uuid4().hex[:6]
    start = time.perf_counter() + 0.2
    for index in range(args.sheets):
        delay = start + index / args.rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        body = {**SHEET, "operator_reference": f"{name}-{prefix}-{index}"}
        began = time.perf_counter()
        response = session.post(
            f"{base}/api/v1/incidents",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        http_ms.append((time.perf_counter() - began) * 1000)
        if response.status_code == 201:
            sent[response.json()["id"]] = began
        else:
            log(f"[{name}] HTTP {response.status_code}: {response.text[:200]}")
        if (index + 1) % 10 == 0:
            log(f"  [{name}] {index + 1}/{args.sheets} sent")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(
        len(streams.arrivals.get(incident, {})) < consoles for incident in sent
    ):
        time.sleep(0.1)
    streams.close()
    every, first, missing = [], [], 0
    for incident, began in sent.items():
        got = streams.arrivals.get(incident, {})
        if len(got) < consoles:
            missing += consoles - len(got)
            continue
        every.append((max(got.values()) - began) * 1000)
        first.append((min(got.values()) - began) * 1000)
    result = {
        "name": name,
        "consoles": consoles,
        "sheets": len(sent),
        "complete": len(every),
        "missing": missing,
        "http_p50": percentile(http_ms, 0.5),
        "http_p99": percentile(http_ms, 0.99),
        "first_p50": percentile(first, 0.5),
        "all_p50": percentile(every, 0.5),
        "all_p99": percentile(every, 0.99),
        "all_max": max(every) if every else float("nan"),
    }
    log(
        f"[{name}] all consoles: p50 {result['all_p50']:.0f} ms, p99 {result['all_p99']:.0f} ms, "
        f"missing deliveries {missing}"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--sheets", type=int, default=50)
    parser.add_argument("--rate", type=float, default=5.0, help="sheets per second")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn gthread workers")
    parser.add_argument(
        "--threads", type=int, default=0, help="threads per worker (default: consoles + 56)"
    )
    args = parser.parse_args()
    threads = args.threads or args.consoles + 56

    service = f"bench{uuid.uuid4().hex[:6]}-31"
    namespace = f"bench{uuid.uuid4().hex[:6]}"
    database = prepare_database(DATABASE)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "BROKER_URL": REDIS,
        # The service's queues in a namespace of this run, deleted at its end.
        "BROKER_NAMESPACE": namespace,
        "SECRET_KEY": "bench",
        "RATE_LIMIT_SUBMISSION": "",
        "RATE_LIMIT_SUBMISSION_ADDRESS": "",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(args.workers),
        "WEB_THREADS": str(threads),
        "LOG_LEVEL": "WARNING",
    }
    cli = str(BIN / "intake-service")

    def run(*command: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [cli, *command], env=env, check=True, capture_output=True, text=True, input=stdin
        )
        return done.stdout

    log("migrating and loading reference data …")
    run("db", "upgrade")
    run("operators", "add", "tisseo", "--name", "Tisséo")
    zones_csv = Path(tempfile.gettempdir()) / f"{service}.csv"
    zones_csv.write_text(f"insee_code,service_code,service_name\n31555,{service},Bench\n")
    run("zones", "import", str(zones_csv))
    token = run("tokens", "create", "--role", "operator", "--scope", "tisseo").strip()
    token = token.splitlines()[-1]
    email = "cic@bench.example.org"
    run(
        "users",
        "add",
        email,
        "--role",
        "command_centre",
        "--scope",
        service,
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )

    processes: list[subprocess.Popen[bytes]] = []
    results = []
    base = f"http://127.0.0.1:{port}"
    try:
        processes.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "-c",
                    str(ROOT / "deploy" / "gunicorn.conf.py"),
                    "intake_service:create_app()",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        processes.append(
            subprocess.Popen(
                [cli, "workers", "relay"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_http(f"{base}/healthz", timeout=60)
        cookie = sign_in(base, email)
        log(f"signed in; gunicorn {args.workers} gthread workers × {threads} threads")
        # Warm up: imports, pools, the commune index, the live hub of each worker.
        for index in range(10):
            requests.post(
                f"{base}/api/v1/incidents",
                json={**SHEET, "operator_reference": f"warm-{index}"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        results.append(measure("1 console", base, port, cookie, token, 1, args))
        results.append(
            measure(f"{args.consoles} consoles", base, port, cookie, token, args.consoles, args)
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
        zones_csv.unlink(missing_ok=True)
        drop_database(DATABASE)
        drop_broker_queues(namespace, service)

    print(
        f"\nPOST /api/v1/incidents → event on the console stream(s), {args.sheets} sheets at "
        f"{args.rate:g}/s, gunicorn {args.workers} gthread workers × {threads} threads, "
        "PostgreSQL, relay running"
    )
    columns: tuple[str, ...] = ("sheets", "complete", "missing", "http p50", "first p50", "all p50")
    columns += ("all p99", "all max")
    print(f"{'case':<14} " + " ".join(f"{c:>9}" for c in columns))
    for r in results:
        cells = [str(r["sheets"]), str(r["complete"]), str(r["missing"])]
        cells += [
            f"{r[k]:.1f}ms" for k in ("http_p50", "first_p50", "all_p50", "all_p99", "all_max")
        ]
        print(f"{r['name']:<14} " + " ".join(f"{c:>9}" for c in cells))
    print("(first: the first console to get it; all: the last one; missing: deliveries never seen)")
    one, many = results
    print(
        f"ratio {many['name']}/1 console: all p50 {many['all_p50'] / one['all_p50']:.2f}, "
        f"p99 {many['all_p99'] / one['all_p99']:.2f}, max {many['all_max'] / one['all_max']:.2f}"
    )


if __name__ == "__main__":
    main()
