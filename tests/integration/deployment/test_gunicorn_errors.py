"""The requests gunicorn refuses itself, before Flask sees them (a request line or
headers past its limits, a request line that is not HTTP), are answered like every other
error of the API: ``application/problem+json`` (RFC 9457), not gunicorn's HTML page."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.integration.deployment.servers import assert_problem, gunicorn, raw_exchange
from tests.processes import free_port


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    with gunicorn(tmp_path_factory.mktemp("gunicorn"), port):
        yield port


def test_a_request_line_of_10000_characters_is_a_414_problem(port: int) -> None:
    path = "/healthz?" + "a" * 10_000
    answer = raw_exchange(port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    problem = assert_problem(answer, 414)
    assert problem["title"] == "URI Too Long"
    assert len(json.dumps(problem)) < 1000  # the detail does not echo the line


def test_a_header_of_10000_characters_is_a_431_problem(port: int) -> None:
    request = f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {'b' * 10_000}\r\n\r\n"
    assert_problem(raw_exchange(port, request.encode()), 431, 400)


def test_200_headers_are_a_431_problem(port: int) -> None:
    headers = "".join(f"X-H{number}: v\r\n" for number in range(200))
    request = f"GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}\r\n"
    assert_problem(raw_exchange(port, request.encode()), 431, 400)


def test_a_garbage_request_line_is_a_400_problem(port: int) -> None:
    problem = assert_problem(raw_exchange(port, b"\x01\x02 garbage\r\n\r\n"), 400)
    assert problem["title"] == "Bad Request"


def test_a_header_that_is_not_a_header_is_a_400_problem(port: int) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"
    assert_problem(raw_exchange(port, request), 400)


def test_a_valid_request_still_reaches_the_app(port: int) -> None:
    status, _, body = raw_exchange(
        port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status == 200, body
