"""A problem's journal: each line written once, by a person or the linker, and the
document the pages and the API show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from intake_service.models import (
    ProblemJournalEntry,
)

# The journal entries a partner reads: written for the partners, without personal data.


def write_entry(
    session: Session,
    problem_id: str,
    author: str,
    kind: str,
    text: str,
    now: dt.datetime,
    detail: Mapping[str, Any] | None = None,
) -> ProblemJournalEntry:
    """One line of a problem's journal, by a person (their actor name) or the linker."""
    entry = ProblemJournalEntry(
        problem_id=problem_id,
        at=now,
        kind=kind,
        text=text,
        author=author[:200],
        detail=dict(detail or {}),
    )
    session.add(entry)
    return entry


# --- journal ------------------------------------------------------------------------------


def journal_document(entry: ProblemJournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "kind": entry.kind,
        "text": entry.text,
        "author": entry.author,
        "detail": dict(entry.detail),
    }
