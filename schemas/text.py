"""What no text may hold, whatever the field: a NUL or a lone surrogate.

PostgreSQL refuses both (a NUL in ``text``, a lone surrogate in UTF-8) where SQLite
keeps them, so a value that passed validation on the zero-install default would be a
500 in production. The API and the pages refuse them at the boundary, naming the field,
before any schema, hash or query sees them. Pure: no Flask, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Must not contain a NUL character or a lone surrogate."


def is_storable(text: str) -> bool:
    return UNSTORABLE.search(text) is None


def unstorable_paths(value: Any, path: str = "") -> Iterator[str]:
    """The dotted paths (``victims.0.name``) of every string in a JSON value that
    holds a NUL or a lone surrogate; a key that holds one is named by its own path."""
    if isinstance(value, str):
        if not is_storable(value):
            yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            key_text = str(key)
            child = f"{path}.{key_text}" if path else key_text
            if not is_storable(key_text):
                yield child
            else:
                yield from unstorable_paths(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unstorable_paths(item, f"{path}.{index}" if path else str(index))


def storable_copy(value: Any) -> Any:
    """The JSON value with every NUL and lone surrogate replaced by U+FFFD, for a schema
    to validate the rest of a refused body without ever seeing them (a validator that
    encodes a string would fail on a lone surrogate)."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {storable_copy(str(key)): storable_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable_copy(item) for item in value]
    return value


def with_unstorable_messages(messages: Any, paths: list[str]) -> dict[Any, Any]:
    """marshmallow's nested error messages with :data:`UNSTORABLE_MESSAGE` added at each
    dotted path, so one answer names every offending field (a list index given as
    ``referents.1`` meets marshmallow's integer key 1)."""
    merged: dict[Any, Any] = (
        dict(messages) if isinstance(messages, Mapping) else {"_schema": messages}
    )
    for path in paths:
        node = merged
        segments = path.split(".") if path else ["_schema"]
        for segment in segments[:-1]:
            key = next((k for k in node if str(k) == segment), segment)
            child = node.get(key)
            child = dict(child) if isinstance(child, Mapping) else {}
            node[key] = child
            node = child
        key = next((k for k in node if str(k) == segments[-1]), segments[-1])
        existing = node.get(key)
        if isinstance(existing, list):
            node[key] = [*existing, UNSTORABLE_MESSAGE]
        elif isinstance(existing, Mapping):
            node[key] = {**existing, "_schema": [UNSTORABLE_MESSAGE]}
        else:
            node[key] = [UNSTORABLE_MESSAGE]
    return merged
