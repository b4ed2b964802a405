"""``If-Match`` (RFC 9110 §13.1.1) against the integer versions this service's records
carry, shown as strong entity tags (``"3"``). Pure: no Flask.

A record's use case holds its row locked and compares there, so two writers with the
same tag cannot both pass: ``as_version`` turns what the client sent into the version
it names (the current one when a tag matches, else 0, never a version: stale, 412).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANY = "*"
# A strong tag as this service writes them; a weak one (W/"3") is parsed but never
# matches: If-Match uses the strong comparison.
_TAG = re.compile(r'^(W/)?"(\d{1,9})"$')


class MalformedTag(ValueError):
    pass


@dataclass(frozen=True)
class IfMatch:
    any: bool = False
    versions: frozenset[int] = frozenset()

    def matches(self, current: int) -> bool:
        return self.any or current in self.versions


def parse_if_match(header: str) -> IfMatch:
    """``*`` or a comma list of entity tags; MalformedTag for anything else."""
    tags = [tag.strip() for tag in header.split(",") if tag.strip()]
    if tags == [ANY]:
        return IfMatch(any=True)
    versions = set()
    for tag in tags:
        found = _TAG.match(tag)
        if found is None:
            raise MalformedTag(tag)
        if not found.group(1):
            versions.add(int(found.group(2)))
    if not tags:
        raise MalformedTag(header)
    return IfMatch(versions=frozenset(versions))


def as_version(expected: int | IfMatch | None, current: int) -> int | None:
    """The version the caller says it read: None when it said nothing."""
    if isinstance(expected, IfMatch):
        return current if expected.matches(current) else 0
    return expected


def etag(version: int) -> str:
    return f'"{version}"'
