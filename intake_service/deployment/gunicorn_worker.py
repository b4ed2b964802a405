"""gunicorn's gthread worker, answering its own errors as ``application/problem+json``.

gunicorn refuses some requests itself, before Flask sees them: a request line or headers
past its limits (414, 431), a request line or a header that is not HTTP (400), and it
answers 500 when the application raised past Flask. Its answer is an HTML page; a client
of the API reads every other error as RFC 9457 JSON (``intake_service/api/problem_details``)
and should read these the same way.

gunicorn's own ``handle_error`` still decides the status and logs the refusal (its warning
and its access line, whose shapes the operators know); only the body it writes is
replaced: it writes into a stand-in for the socket, and the problem goes to the client.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

PROBLEM_MIMETYPE = "application/problem+json"
# gunicorn's message can quote the refused request line (up to limit_request_line bytes).
_DETAIL_CHARACTERS = 200
_DETAILS = {
    414: "The request line is longer than the server reads.",
    431: "The request's header fields are too many or too large.",
    500: "An unexpected error occurred; it has been logged.",
}


class _Written:
    """Takes the place of the client's socket for gunicorn's ``util.write_error``."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0  # "non-blocking already": gunicorn leaves the blocking mode alone

    def sendall(self, data: bytes) -> None:
        self.data += data


def problem_answer(status: int, title: str, detail: str) -> bytes:
    """A whole HTTP/1.1 answer carrying the problem; the connection closes after it."""
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {title}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {PROBLEM_MIMETYPE}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def problem_for(written: bytes, exc: BaseException) -> bytes:
    """The problem answer for what gunicorn wrote (its status line) about ``exc``."""
    status_line = written.split(b"\r\n", 1)[0].decode("latin-1")
    _version, code, title = [*status_line.split(" ", 2), "", ""][:3]
    status = int(code) if code.isdigit() else 500
    detail = _DETAILS.get(status) or str(exc)[:_DETAIL_CHARACTERS] or title
    return problem_answer(status, title or "Error", detail)


class ProblemThreadWorker(ThreadWorker):
    """``worker_class`` of deploy/gunicorn.conf.py and ``intake-service serve``."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        written = _Written()
        super().handle_error(req, written, addr, exc)
        try:
            util.write_nonblock(client, problem_for(written.data, exc))
        except Exception:  # noqa: BLE001 - the client is gone: nothing to answer, as gunicorn
            self.log.debug("Failed to send error message.")
