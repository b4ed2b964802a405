"""The problem gunicorn's worker answers in place of its HTML page."""

from __future__ import annotations

import json

from intake_service.deployment.gunicorn_worker import problem_for


def parse(answer: bytes) -> tuple[str, dict[str, str], dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert int(headers["Content-Length"]) == len(body)
    return lines[0], headers, json.loads(body)


def test_the_status_and_title_are_gunicorns() -> None:
    written = (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/html\r\n\r\n<html>"
    )
    line, headers, problem = parse(problem_for(written, ValueError("too many")))
    assert line == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Connection"] == "close"
    assert problem == {
        "type": "about:blank",
        "title": "Request Header Fields Too Large",
        "status": 431,
        "detail": "The request's header fields are too many or too large.",
    }


def test_a_400_says_what_gunicorn_could_not_read_and_no_more_than_200_characters() -> None:
    written = b"HTTP/1.1 400 Bad Request\r\n\r\n"
    _, _, problem = parse(problem_for(written, ValueError("Invalid Request Line " + "x" * 5000)))
    assert str(problem["detail"]).startswith("Invalid Request Line x")
    assert len(str(problem["detail"])) == 200


def test_a_500_tells_nothing_of_the_exception() -> None:
    written = b"HTTP/1.1 500 Internal Server Error\r\n\r\n"
    _, _, problem = parse(problem_for(written, RuntimeError("secret internals")))
    assert problem["status"] == 500
    assert "secret" not in json.dumps(problem)
