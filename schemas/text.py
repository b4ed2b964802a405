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
