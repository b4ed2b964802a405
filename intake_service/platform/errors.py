"""The refusals every use case may raise, once; the entry points turn them into answers.

``NotFound`` is answered 404 whether the record is absent or outside the caller's scope,
so ids cannot be probed; ``Forbidden`` (403) is a record in scope that the caller's role
may not change; ``Refused`` is a change the record's state does not allow (409) or an
input only the use case can judge (422); ``Conflict`` is a stale version (409).
"""

from __future__ import annotations


class NotFound(LookupError):
    """Absent, or outside the caller's scope (the same answer: ids cannot be probed)."""


class Forbidden(PermissionError):
    """In the caller's scope, but not the caller's to do (a partner, another's action)."""


class Refused(Exception):
    """A change the record's state does not allow (409), or a bad input (422).

    ``field`` names the input at fault, when one is.
    """

    def __init__(self, field: str | None, message: str, *, conflict: bool = True) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.conflict = conflict


class Conflict(RuntimeError):
    """The record changed since the caller read it (``version``)."""

    def __init__(self, current_version: int, record: str = "problem") -> None:
        super().__init__(f"The {record} is at version {current_version}: reload it and retry.")
        self.current_version = current_version


class VersionRequired(Exception):
    """A change that must say which version it read (If-Match) did not: 428."""

    def __init__(self, current_version: int, record: str = "record") -> None:
        super().__init__(
            f"The {record} is at version {current_version}: send If-Match with its ETag."
        )
        self.current_version = current_version
