"""What a GPO partner may read and do (``access-and-privacy.md``), as tables."""

from __future__ import annotations

import pytest

from intake_service.access.rules.permissions import Principal
from intake_service.access.rules.redaction import (
    PARTNER_JOURNAL_KINDS,
    brief_version_for,
    journal_kinds_for,
    may_complete_action,
)

REFERENT = Principal(role="gpo_referent", scope="gpo-toulouse", actor="referent")
PM = Principal(role="gpo_partner", scope="gpo-toulouse:pm-toulouse", actor="pm")
UNNAMED_PARTNER = Principal(role="gpo_partner", scope="gpo-toulouse", actor="partner")
OPERATOR = Principal(role="operator", scope="tisseo", actor="agent")


def test_partners_read_meetings_and_decisions_never_notes() -> None:
    assert {"meeting", "decision"} == PARTNER_JOURNAL_KINDS
    assert journal_kinds_for(REFERENT) is None
    assert journal_kinds_for(PM) == PARTNER_JOURNAL_KINDS
    assert journal_kinds_for(UNNAMED_PARTNER) == PARTNER_JOURNAL_KINDS


@pytest.mark.parametrize(
    ("principal", "version"),
    [(REFERENT, "referent"), (PM, "partner"), (UNNAMED_PARTNER, "partner"), (OPERATOR, "partner")],
)
def test_only_the_referent_gets_the_referent_brief(principal: Principal, version: str) -> None:
    assert brief_version_for(principal) == version


@pytest.mark.parametrize(
    ("principal", "owner", "allowed"),
    [
        (REFERENT, "pm-toulouse", True),
        (REFERENT, None, True),
        (PM, "pm-toulouse", True),
        (PM, "tisseo", False),
        (PM, None, False),
        (UNNAMED_PARTNER, "pm-toulouse", False),
        (OPERATOR, "pm-toulouse", False),
    ],
)
def test_who_marks_an_action_done(principal: Principal, owner: str | None, allowed: bool) -> None:
    assert may_complete_action(principal, owner) is allowed
