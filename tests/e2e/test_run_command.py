"""The README's run path, for real: migrate, load the demo, serve with gunicorn, curl a sheet.

The curl command is taken from the README itself, so the README cannot drift
from what the service does.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).with_name("intake-service"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def readme_curl() -> tuple[str, str]:
    """The README's first curl example: the command writing its sheet, and the curl."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n([^`\n]*examples sheet[^`\n]*)\n(curl .*?)```", text, flags=re.S)
    assert blocks, "the README has no curl example"
    return blocks[0]


def server_env(server: tuple[int, str]) -> dict[str, str]:
    return ENVIRONMENTS[server[0]]


ENVIRONMENTS: dict[int, dict[str, str]] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    instance = tmp_path_factory.mktemp("instance")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL")},
        "INSTANCE_PATH": str(instance),
    }
    demo = subprocess.run(
        [CLI, "demo", "load"], env=env, capture_output=True, text=True, check=True
    )
    port = free_port()
    ENVIRONMENTS[port] = env
    log = (instance / "serve.log").open("w")
    process = subprocess.Popen(
        [CLI, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        # To a file, not a pipe: nobody reads a pipe until the end, and a full one blocks.
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"the server did not start: {(instance / 'serve.log').read_text()}")
    yield port, demo.stdout
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_demo_prints_a_token_for_each_role(server: tuple[int, str]) -> None:
    _, demo_output = server
    for role in (
        "operator",
        "command_centre",
        "gpo_referent",
        "gpo_partner",
        "station_officer",
        "admin",
    ):
        assert role in demo_output


def test_the_readme_curl_example_answers_201(server: tuple[int, str]) -> None:
    port, _ = server
    prepare, curl = readme_curl()
    command = curl.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    subprocess.run(["bash", "-c", prepare], cwd=ROOT, capture_output=True, text=True, check=True)
    first = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert first.stdout.startswith("HTTP/1.1 201"), first.stdout
    location = re.search(r"^Location: (\S+)", first.stdout, flags=re.M | re.I)
    assert location is not None
    # The README says a retry with the same key gives the same incident back.
    second = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert second.stdout.startswith("HTTP/1.1 201")
    assert location.group(1) in second.stdout


def test_readiness_on_the_embedded_default(server: tuple[int, str]) -> None:
    port, _ = server
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
        assert response.status == 200


def test_the_whole_flow_reaches_the_command_centre_feed(server: tuple[int, str]) -> None:
    """Sheet over HTTP → outbox → relay (started by serve) → embedded broker → feed."""
    port, _ = server
    sheet = json.loads((ROOT / "examples/sheets/valid/p4-depot-tags.json").read_text())
    sheet["operator_reference"] = "E2E-FLOW-1"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/incidents",
        data=json.dumps(sheet).encode(),
        headers={
            "Authorization": "Bearer demo-operator-tisseo",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server
        assert response.status == 201
        incident = json.loads(response.read())
    assert incident["competent_service"]["code"] == "ddsp-31"
    seen = ""
    for _ in range(5):  # earlier tests' messages come first
        tail = subprocess.run(
            [CLI, "feed", "tail", "ddsp-31", "--ack", "--count", "1"],
            env=server_env(server),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert tail.returncode == 0, tail.stderr
        seen += tail.stdout
        if incident["id"] in tail.stdout:
            break
    assert incident["id"] in seen
    assert "incident.submitted.ddsp-31.P4" in seen


def test_the_demo_accounts_sign_in_to_their_pages(server: tuple[int, str]) -> None:
    """The pages are served by gunicorn in the run command, with the demo accounts."""
    import requests

    port, demo_output = server
    assert "agent@tisseo.demo" in demo_output
    base = f"http://127.0.0.1:{port}"
    for email, landing in (
        ("agent@tisseo.demo", "/operateur/incidents"),
        ("cic@ddsp31.demo", "/console/"),
    ):
        browser = requests.Session()
        form = browser.get(f"{base}/connexion", timeout=10).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        signed = browser.post(
            f"{base}/connexion",
            data={"csrf_token": csrf.group(1), "email": email, "password": "demo-demo-demo"},
            timeout=10,
        )
        assert signed.status_code == 200
        assert signed.url == base + landing
        assert browser.get(f"{base}/static/app.css", timeout=10).status_code == 200


def test_gunicorns_own_refusal_is_a_problem(server: tuple[int, str]) -> None:
    """`serve` runs the same worker class as deploy/gunicorn.conf.py: its 414 is JSON."""
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /healthz?{'a' * 10_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ")
    assert b"\r\nContent-Type: application/problem+json\r\n" in head
    assert json.loads(body)["status"] == 414
