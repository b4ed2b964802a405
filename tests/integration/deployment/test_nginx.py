"""The stack's proxy (deploy/nginx/nginx.conf) in front of gunicorn: requests reach the
app, and what nginx refuses itself is refused as the API refuses: problem+json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.deployment.servers import assert_problem, gunicorn, raw_exchange
from tests.nginx import nginx
from tests.processes import free_port


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("stack")
    api, proxy = free_port(), free_port()
    with gunicorn(folder / "gunicorn", api), nginx(folder / "nginx", proxy, api):
        yield proxy


def test_a_request_reaches_the_app_through_the_proxy(port: int) -> None:
    status, headers, body = raw_exchange(
        port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status == 200, body
    assert json.loads(body)["status"] == "ok"
    assert headers["x-request-id"]  # the app's answer, passed on


def test_the_apps_own_errors_pass_unchanged(port: int) -> None:
    request = b"GET /api/v1/incidents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    problem = assert_problem(raw_exchange(port, request), 401)
    assert "bearer" in str(problem["detail"]).lower()


def test_a_request_line_of_10000_characters_is_a_414_problem(port: int) -> None:
    request = f"GET /healthz?{'a' * 10_000} HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_problem(raw_exchange(port, request.encode()), 414)


def test_a_header_of_10000_characters_is_a_431_problem(port: int) -> None:
    request = f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {'b' * 10_000}\r\n\r\n"
    assert_problem(raw_exchange(port, request.encode()), 431)


def test_a_garbage_request_line_is_a_400_problem(port: int) -> None:
    assert_problem(raw_exchange(port, b"\x01\x02 garbage\r\n\r\n"), 400)


def test_a_body_over_the_apps_limit_is_a_413_problem_before_the_app(port: int) -> None:
    request = (
        b"POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 300000\r\n\r\n"
    )
    assert_problem(raw_exchange(port, request), 413)


def test_no_api_behind_is_a_502_problem(tmp_path: Path) -> None:
    proxy = free_port()
    with nginx(tmp_path, proxy, upstream_port=free_port()):
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        assert_problem(raw_exchange(proxy, request), 502)
