"""The one error body of the API: ``application/problem+json`` (RFC 9457).

Every error, raised anywhere under ``/api`` or by the health checks, leaves
through ``problem_response``: a ``type``, ``title``, ``status``, ``detail`` and,
for bad input, ``errors`` naming each offending field by its dotted path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, json
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from schemas.errors import flatten_errors

PROBLEM_MIMETYPE = "application/problem+json"
TYPE_BASE = "https://gpo-transports.example/problems/"

DETAILS = {
    400: "The request could not be read.",
    401: "A valid bearer token is required (Authorization: Bearer <token>).",
    403: "Your role may not do this.",
    404: "No such resource.",
    405: "This method is not allowed here.",
    409: "The request conflicts with the resource's current state.",
    413: "The body is larger than the limit.",
    415: "Send JSON: Content-Type: application/json.",
    422: "The request has errors; each is listed with its field.",
    429: "Too many requests; retry later.",
    500: "An unexpected error occurred; it has been logged.",
    503: "A dependency is unavailable; retry later.",
}


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    slug: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    title = HTTP_STATUS_CODES.get(status, "Error")
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail or DETAILS.get(status, title),
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException) -> Response:
    """Turn any werkzeug/webargs/flask-smorest HTTP error into a problem."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors: list[dict[str, str]] = []
    messages = data.get("messages")
    if isinstance(messages, Mapping):
        # webargs keys messages by location ("json", "query", "headers"): the field
        # path starts inside the body or the query string.
        for location_messages in messages.values():
            errors.extend(flatten_errors(location_messages))
    detail = data.get("message") or (
        error.description if status not in DETAILS and error.description else None
    )
    # The exception's own headers first (Allow on a 405), then those given to abort().
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="intake"')
    errors.extend(data.get("errors") or [])
    if status == 422 and not errors:
        detail = detail or "The request has errors."
    return problem_response(
        status,
        detail,
        errors=errors or None,
        headers=headers,
        slug=data.get("slug"),
        extra=data.get("extra"),
    )
