"""What the API and the pages both check of a request's address before any view."""

from __future__ import annotations

from flask import request


def request_text_fields() -> list[tuple[str, str]]:
    """The path's variables (``path.code``) and the query's keys and values (``query.q``)."""
    fields = [
        (f"path.{name}", value)
        for name, value in (request.view_args or {}).items()
        if isinstance(value, str)
    ]
    for key, values in request.args.lists():
        fields.append((f"query.{key}", key))
        fields.extend((f"query.{key}", value) for value in values)
    return fields
