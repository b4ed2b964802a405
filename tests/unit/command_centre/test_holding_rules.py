"""Who may act on an incident one command-centre operator took, as a table."""

from __future__ import annotations

import pytest

from intake_service.command_centre.rules.holding import may_act, may_reassign, may_take

ME, OTHER = "user:1 (cic1@ddsp31.test)", "user:2 (cic2@ddsp31.test)"


@pytest.mark.parametrize(
    ("holder", "take", "act", "supervisor_acts"),
    [
        (None, True, True, True),  # free: anyone takes and acts
        (ME, True, True, True),  # mine: taking again changes nothing
        (OTHER, False, False, True),  # another's: refused, but a supervisor settles it
    ],
)
def test_who_may_take_and_act(
    holder: str | None, take: bool, act: bool, supervisor_acts: bool
) -> None:
    assert may_take(holder, ME) is take
    assert may_act(holder, ME, supervisor=False) is act
    assert may_act(holder, ME, supervisor=True) is supervisor_acts


def test_only_a_supervisor_reassigns() -> None:
    assert may_reassign(True)
    assert not may_reassign(False)
