"""The production server as the compose file runs it: gunicorn with deploy/gunicorn.conf.py.

Its own logs are JSON lines like the application's; its control socket is its own (not
the shared ``~/.gunicorn``); /metrics answers on the metrics port only.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[3]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our server
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_gunicorn_logs_json_keeps_its_own_socket_and_hides_metrics(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    env = {
        "PATH": str(Path(sys.executable).parent),
        "INSTANCE_PATH": str(tmp_path),
        "BIND": f"127.0.0.1:{port}",
        "METRICS_PORT": str(metrics_port),
        "WEB_CONCURRENCY": "1",
        "HOME": str(tmp_path),
    }
    server = subprocess.Popen(
        [GUNICORN, "-c", "deploy/gunicorn.conf.py", "intake_service:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if status_of(f"http://127.0.0.1:{port}/healthz") == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        assert status_of(f"http://127.0.0.1:{port}/metrics") == 404
        assert status_of(f"http://127.0.0.1:{metrics_port}/metrics") == 200
        # The deployment's gauges, read once per scrape (deploy/prometheus.yml), there too.
        assert status_of(f"http://127.0.0.1:{port}/metrics/deployment") == 404
        assert status_of(f"http://127.0.0.1:{metrics_port}/metrics/deployment") == 200
        assert Path(tempfile.gettempdir(), f"intake-gunicorn-{server.pid}.ctl").exists()
        assert not (tmp_path / ".gunicorn").exists()  # not the user's shared path
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert lines
    parsed = [json.loads(line) for line in lines]  # every line, gunicorn's included
    loggers = {entry["logger"] for entry in parsed}
    assert {"gunicorn.error", "gunicorn.access"} <= loggers
    access = [entry["message"] for entry in parsed if entry["logger"] == "gunicorn.access"]
    assert any('"GET /healthz HTTP/1.1" 200' in message for message in access)
    assert not Path(tempfile.gettempdir(), f"intake-gunicorn-{server.pid}.ctl").exists()
