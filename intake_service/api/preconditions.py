"""The API's ``If-Match`` (RFC 9110 §13.1.1): read once, the same way for every record.

A malformed header is a 400 naming it; a change that must name its version and does
not is a 428, a stale one a 412, both with the record's current version.
"""

from __future__ import annotations

from typing import NoReturn

from flask import request
from flask_smorest import abort

from intake_service.platform.errors import Conflict, VersionRequired
from intake_service.platform.preconditions import IfMatch, MalformedTag, parse_if_match


def if_match(record: str) -> IfMatch | None:
    """The request's If-Match, or None without one."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    try:
        return parse_if_match(header)
    except MalformedTag:
        abort(
            400,
            message=f'If-Match must be the {record}\'s ETag ("3") or *.',
            errors=[{"field": "If-Match", "message": f'The {record}\'s ETag, e.g. "3".'}],
        )
        raise AssertionError from None  # unreachable: abort raises


def abort_stale(exc: Conflict | VersionRequired, record: str) -> NoReturn:
    """428 without a required If-Match, 412 when it names another version."""
    if isinstance(exc, VersionRequired):
        abort(
            428,
            message=str(exc),
            errors=[{"field": "If-Match", "message": f'The {record}\'s ETag, e.g. "3".'}],
            extra={"current_version": exc.current_version},
        )
    abort(
        412,
        message=str(exc),
        slug="version-conflict",
        errors=[{"field": "If-Match", "message": str(exc)}],
        extra={"current_version": exc.current_version},
    )
    raise AssertionError  # unreachable: abort raises
