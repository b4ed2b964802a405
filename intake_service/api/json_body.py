"""The request's JSON body, read once and strictly, for every API view.

Strict where the standard library is lenient (and a client's mistake would be stored
silently, or a 500 later on PostgreSQL):

- UTF-8 only (RFC 8259 §8.1): ``json.loads`` on bytes would also guess UTF-16 and 32;
- a key given twice is refused, not "the last one wins";
- no NUL or lone surrogate in any string or key (``schemas/text.py``).

The webargs parser (``api/blueprint.py``) and the idempotency hash read the body here,
so both see the same document and it is parsed once.
"""

from __future__ import annotations

import json
from typing import Any

from flask import g, request
from flask_smorest import abort

from schemas.text import UNSTORABLE_MESSAGE, unstorable_paths

_UNREAD = object()


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise DuplicateKey(key)
        document[key] = value
    return document


def read_json_body(*, refuse_unstorable: bool = True) -> Any:
    """The decoded body; aborts 400 (unreadable) or 422 (unstorable text), naming fields.

    The body parser passes ``refuse_unstorable=False``: it refuses that text itself,
    together with the schema's own errors, so one answer names every field.
    """
    cached = g.get("json_body", _UNREAD)
    if cached is not _UNREAD:
        return cached
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        abort(
            400,
            message=f"The body is not UTF-8 (byte {exc.start}): send JSON in UTF-8.",
            errors=[{"field": "", "message": "Not UTF-8."}],
        )
    try:
        body = json.loads(text, object_pairs_hook=_refuse_duplicates)
    except DuplicateKey as exc:
        abort(
            400,
            message=f"Invalid JSON body: the key {exc.key!r} is given twice.",
            errors=[{"field": exc.key, "message": "Given twice."}],
        )
    except (ValueError, RecursionError) as exc:
        abort(400, exc=exc, messages={"json": ["Invalid JSON body."]})
    g.json_body = body
    refused = list(dict.fromkeys(unstorable_paths(body)))
    if refused and refuse_unstorable:
        abort(
            422,
            message="The body has text that cannot be stored; each field is listed.",
            errors=[{"field": path, "message": UNSTORABLE_MESSAGE} for path in refused],
        )
    return body
