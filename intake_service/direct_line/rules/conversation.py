"""The conversation's rules: who is on which side, who sees which message, when a
request for information is due. Pure: tested as tables in tests/unit/direct_line/."""

from __future__ import annotations

import datetime as dt

SIDES = ("command_centre", "operator")
KINDS = ("message", "rfi", "note")

# A request for information is due this long after it is asked, by the incident's
# priority (issue 14): an operator's PC sûreté answers a P1 question within minutes.
RFI_DUE: dict[str, dt.timedelta] = {
    "P1": dt.timedelta(minutes=5),
    "P2": dt.timedelta(minutes=15),
    "P3": dt.timedelta(hours=2),
    "P4": dt.timedelta(hours=2),
}


def side_of(role: str) -> str | None:
    """The side of the line a role speaks for (None: not a party to the conversation)."""
    return role if role in SIDES else None


def other_side(side: str) -> str:
    return "operator" if side == "command_centre" else "command_centre"


def visible_to(viewer_side: str, message_side: str, kind: str) -> bool:
    """A note stays on its author's side; messages and requests are seen by both sides."""
    return kind != "note" or viewer_side == message_side


def rfi_due_at(priority: str, asked_at: dt.datetime, delay: dt.timedelta | None) -> dt.datetime:
    """When a request asked at ``asked_at`` is due: the asker's delay, else the priority's."""
    return asked_at + (delay if delay is not None else RFI_DUE.get(priority, RFI_DUE["P4"]))


def is_overdue(
    due_at: dt.datetime | None, answered_at: dt.datetime | None, now: dt.datetime
) -> bool:
    return due_at is not None and answered_at is None and now >= due_at
