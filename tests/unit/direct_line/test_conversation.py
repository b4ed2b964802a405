"""The conversation's rules, as tables: sides, what each side sees, when a request is due."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.direct_line.rules.conversation import (
    is_overdue,
    other_side,
    rfi_due_at,
    side_of,
    visible_to,
)

ASKED = dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("role", "side"),
    [
        ("operator", "operator"),
        ("command_centre", "command_centre"),
        ("gpo_referent", None),
        ("gpo_partner", None),
        ("station_officer", None),
        ("admin", None),
    ],
)
def test_only_the_operator_and_the_command_centre_take_part(role: str, side: str | None) -> None:
    assert side_of(role) == side


def test_each_side_has_the_other() -> None:
    assert other_side("operator") == "command_centre"
    assert other_side("command_centre") == "operator"


@pytest.mark.parametrize(
    ("viewer", "author", "kind", "seen"),
    [
        ("operator", "command_centre", "message", True),
        ("operator", "command_centre", "rfi", True),
        ("operator", "command_centre", "note", False),
        ("operator", "operator", "note", True),
        ("command_centre", "operator", "note", False),
        ("command_centre", "command_centre", "note", True),
        ("command_centre", "operator", "message", True),
        ("command_centre", "operator", "rfi", True),
    ],
)
def test_a_note_stays_on_its_side(viewer: str, author: str, kind: str, seen: bool) -> None:
    assert visible_to(viewer, author, kind) is seen


@pytest.mark.parametrize(
    ("priority", "delay", "due"),
    [
        ("P1", None, dt.timedelta(minutes=5)),
        ("P2", None, dt.timedelta(minutes=15)),
        ("P3", None, dt.timedelta(hours=2)),
        ("P4", None, dt.timedelta(hours=2)),
        ("P1", dt.timedelta(minutes=30), dt.timedelta(minutes=30)),
    ],
)
def test_a_request_is_due_by_priority_unless_the_asker_says(
    priority: str, delay: dt.timedelta | None, due: dt.timedelta
) -> None:
    assert rfi_due_at(priority, ASKED, delay) == ASKED + due


@pytest.mark.parametrize(
    ("due", "answered", "now", "overdue"),
    [
        (None, None, ASKED, False),
        (ASKED, None, ASKED - dt.timedelta(seconds=1), False),
        (ASKED, None, ASKED, True),
        (ASKED, ASKED, ASKED + dt.timedelta(hours=1), False),
    ],
)
def test_overdue_means_unanswered_past_due(
    due: dt.datetime | None, answered: dt.datetime | None, now: dt.datetime, overdue: bool
) -> None:
    assert is_overdue(due, answered, now) is overdue
