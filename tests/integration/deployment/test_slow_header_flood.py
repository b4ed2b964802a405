"""Why the stack has nginx in front of gunicorn (deploy/nginx/nginx.conf): a flood of
clients trickling their headers.

gunicorn's gthread worker gives a thread to each connection until its request is read,
with no limit on how long the headers take: 100 connections sending one header line every
2 s hold all 32 threads of a worker, and valid requests wait behind them. nginx reads the
headers itself, with no thread per connection, drops a sender that has not finished them
after client_header_timeout, and hands gunicorn whole requests only.

Valid requests are GET /healthz, GET /readyz and sheets submitted with a demo token.
Both servers are the stack's own: gunicorn with deploy/gunicorn.conf.py (one worker, its
default threads), nginx with deploy/nginx/nginx.conf and the test's stack/ include (a
5 s header timeout where the stack has 10 s). The figures are printed (pytest -s).
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.deployment.servers import ROOT, gunicorn
from tests.nginx import nginx, require_nginx
from tests.processes import free_port

SLOW_CONNECTIONS = 100
LINE_EVERY = 2.0  # seconds between two header lines of a slow sender
HEADER_TIMEOUT = 5  # seconds, the test's client_header_timeout (the stack: 10 s)
PROMPT = 2.0  # seconds a valid request may take during the flood
CLI = str(Path(sys.executable).with_name("intake-service"))
SHEET = "examples/sheets/valid/p4-depot-tags.json"
TOKEN = "demo-operator-tisseo"  # the demo's operator of that sheet (README)


def demo_sheet(instance: Path) -> dict[str, object]:
    """The demo loaded in ``instance`` (its operators' tokens), and a valid sheet of now."""
    env = {"PATH": str(Path(sys.executable).parent), "INSTANCE_PATH": str(instance)}
    env["HOME"] = str(instance)
    subprocess.run([CLI, "demo", "load"], env=env, cwd=ROOT, capture_output=True, check=True)
    printed = subprocess.run(
        [CLI, "examples", "sheet", SHEET], env=env, cwd=ROOT, capture_output=True, check=True
    )
    sheet: dict[str, object] = json.loads(printed.stdout)
    return sheet


@dataclass
class Flood:
    """SLOW_CONNECTIONS senders of one header line every LINE_EVERY seconds, each
    replaced as soon as the server drops it (an attacker reconnects)."""

    port: int
    cut: int = 0
    lifetimes: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def open(self) -> tuple[socket.socket, float]:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: flood\r\n")
        sock.setblocking(False)
        return sock, time.monotonic()

    def run(self) -> None:
        senders = [self.open() for _ in range(SLOW_CONNECTIONS)]
        line = 0
        while not self.stop.wait(LINE_EVERY):
            line += 1
            for index, (sock, opened) in enumerate(senders):
                if self.dropped(sock, line):
                    self.cut += 1
                    self.lifetimes.append(time.monotonic() - opened)
                    sock.close()
                    senders[index] = self.open()
        for sock, _ in senders:
            sock.close()

    @staticmethod
    def dropped(sock: socket.socket, line: int) -> bool:
        try:
            if sock.recv(4096) == b"":
                return True  # closed (a 408 before it, or nothing)
        except BlockingIOError:
            pass
        except OSError:
            return True
        try:
            sock.send(f"X-Slow-{line}: still sending\r\n".encode())
        except OSError:
            return True
        return False


@contextmanager
def flooding(port: int) -> Iterator[Flood]:
    flood = Flood(port)
    thread = threading.Thread(target=flood.run, daemon=True)
    thread.start()
    time.sleep(1)  # every slow sender connected and started
    try:
        yield flood
    finally:
        flood.stop.set()
        thread.join(timeout=30)


def valid_request(port: int, number: int, sheet: dict[str, object]) -> urllib.request.Request:
    """In turn: GET /healthz, GET /readyz, and a sheet submitted (a reference of its own)."""
    base = f"http://127.0.0.1:{port}"  # ours: no other scheme than http
    if number % 3 == 0:
        return urllib.request.Request(f"{base}/healthz")  # noqa: S310
    if number % 3 == 1:
        return urllib.request.Request(f"{base}/readyz")  # noqa: S310
    body = json.dumps({**sheet, "operator_reference": f"FLOOD-{port}-{number}"}).encode()
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"flood-{port}-{number}",
    }
    url = f"{base}/api/v1/incidents"
    return urllib.request.Request(url, body, headers, method="POST")  # noqa: S310


def latencies(
    port: int, seconds: float, timeout: float, sheet: dict[str, object]
) -> tuple[list[float], int]:
    """Valid requests one after the other for ``seconds``: the latencies of those
    answered 200 or 201, and how many were not (timed out or failed)."""
    answered, failed = [], 0
    end = time.monotonic() + seconds
    number = 0
    while time.monotonic() < end:
        request = valid_request(port, number, sheet)
        number += 1
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                assert response.status == (201 if request.get_method() == "POST" else 200)
            answered.append(time.monotonic() - started)
        except (OSError, urllib.error.URLError):
            failed += 1
        time.sleep(0.1)
    return answered, failed


def figures(answered: list[float]) -> str:
    if not answered:
        return "none answered"
    return f"p50 {statistics.median(answered):.3f} s, max {max(answered):.3f} s"


def test_a_slow_header_flood_stalls_gunicorn_but_not_nginx_in_front(tmp_path: Path) -> None:
    require_nginx()
    api, proxy = free_port(), free_port()
    sheet = demo_sheet(tmp_path / "gunicorn")
    with gunicorn(tmp_path / "gunicorn", api):
        # Straight at gunicorn: the flood holds every thread, valid requests wait.
        with flooding(api) as flood:
            direct, direct_failed = latencies(api, seconds=8, timeout=3, sheet=sheet)
        print(
            f"\ndirect to gunicorn, {SLOW_CONNECTIONS} slow senders: {len(direct)} answered "
            f"({figures(direct)}), {direct_failed} timed out after 3 s; "
            f"slow senders dropped by gunicorn: {flood.cut}"
        )
        assert direct_failed > 0 or max(direct) > PROMPT, direct
        assert flood.cut == 0  # gunicorn waits for them as long as they send

        with nginx(tmp_path / "nginx", proxy, api, header_timeout=f"{HEADER_TIMEOUT}s"):
            with flooding(proxy) as flood:
                proxied, proxied_failed = latencies(
                    proxy, seconds=3 * HEADER_TIMEOUT, timeout=5, sheet=sheet
                )
            print(
                f"through nginx, {SLOW_CONNECTIONS} slow senders (replaced when dropped): "
                f"{len(proxied)} answered, one in three a sheet accepted ({figures(proxied)}), "
                f"{proxied_failed} failed; "
                f"slow senders dropped by nginx: {flood.cut}, after "
                f"{min(flood.lifetimes, default=0):.1f}-{max(flood.lifetimes, default=0):.1f} s"
            )
    assert proxied_failed == 0
    assert len(proxied) >= 20
    assert max(proxied) < PROMPT
    # Every sender was dropped at the header timeout, not let to trickle on.
    assert flood.cut >= SLOW_CONNECTIONS
    assert all(
        HEADER_TIMEOUT - 0.5 < life < HEADER_TIMEOUT + 2 * LINE_EVERY for life in flood.lifetimes
    )
