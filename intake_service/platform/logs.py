"""Structured logs: one JSON object per line, with the request id of what is being done.

The request id comes from the HTTP request (``X-Request-ID``, or a new one),
is written with the outbox event, travels in the message headers and is logged
by the relay: one id follows a sheet from the operator's call to the feed. Log
lines carry ids and codes, never personal data (no names, phones, narratives).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}\Z")


def new_request_id(given: str | None = None) -> str:
    """The caller's id when it is a sane token, else a fresh one."""
    return given if given and VALID_REQUEST_ID.match(given) else uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # A line that names its own request id (the relay's, per event) keeps it.
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


def configure(level: str = "INFO") -> None:
    """JSON lines on stderr for the whole process (called again, it starts afresh)."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(RequestIdFilter())
    root.handlers = [handler]
    root.setLevel(level)
