"""The incident lifecycle (``command-centre.md``, Lifecycle), as a table: every pair of
statuses, allowed or not, written out here independently of the code's table."""

from __future__ import annotations

import pytest

from intake_service.intake.rules import lifecycle
from schemas.vocabulary import STATUSES

# from -> to: "x" where the move is allowed. Columns in this order:
ORDER = ("received", "queued", "acknowledged", "dispatched", "closed", "rejected", "withdrawn")
TABLE = """
               received queued acknowledged dispatched closed rejected withdrawn
received          .       x         x           .        .       x        x
queued            .       .         x           .        .       x        x
acknowledged      .       .         .           x        x       x        .
dispatched        .       .         .           .        x       .        .
closed            .       .         .           .        .       .        .
rejected          x       .         .           .        .       .        .
withdrawn         .       .         .           .        .       .        .
"""


def _table() -> dict[tuple[str, str], bool]:
    rows = [line.split() for line in TABLE.strip().splitlines()]
    assert tuple(rows[0]) == ORDER
    allowed = {}
    for row in rows[1:]:
        current, marks = row[0], row[1:]
        assert len(marks) == len(ORDER), current
        for target, mark in zip(ORDER, marks, strict=True):
            allowed[(current, target)] = mark == "x"
    return allowed


ALLOWED = _table()


def test_the_table_covers_every_status_of_the_vocabulary() -> None:
    assert set(ORDER) == set(STATUSES)
    assert set(lifecycle.TRANSITIONS) == set(STATUSES)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_each_move_is_allowed_exactly_as_the_table_says(current: str, target: str) -> None:
    assert lifecycle.can_move(current, target) is ALLOWED[(current, target)]


def test_an_unknown_status_moves_nowhere() -> None:
    assert not any(lifecycle.can_move("lost", target) for target in ORDER)


@pytest.mark.parametrize(
    ("name", "statuses"),
    [
        ("UNACKNOWLEDGED", {"received", "queued"}),
        ("AMENDABLE", {"received", "queued", "acknowledged", "dispatched", "closed", "rejected"}),
        ("REROUTABLE", {"received", "queued", "rejected"}),
    ],
)
def test_the_named_sets_of_statuses(name: str, statuses: set[str]) -> None:
    assert getattr(lifecycle, name) == statuses


def test_the_command_centre_sets_only_its_own_statuses() -> None:
    assert lifecycle.COMMAND_CENTRE_STATUSES == ("acknowledged", "dispatched", "closed", "rejected")
    # Withdrawal is the operator's, before acknowledgement.
    assert {c for c in ORDER if ALLOWED[(c, "withdrawn")]} == {"received", "queued"}
