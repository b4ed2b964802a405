"""What a GPO partner may read and do, in one place: the partners see meetings and
decisions of a problem's journal (never notes, which may name people), the partners'
version of the meeting brief (no personal data), and may mark done only the actions
their own organisation owns. Pure.
"""

from __future__ import annotations

from typing import Literal

from intake_service.access.rules.permissions import Principal, partner_of

BriefVersion = Literal["referent", "partner"]

# The journal entries partners read; the others (notes) are the referent's.
PARTNER_JOURNAL_KINDS = frozenset({"meeting", "decision"})


def journal_kinds_for(principal: Principal) -> frozenset[str] | None:
    """The journal kinds the caller reads: None (all) for the referent."""
    return None if principal.role == "gpo_referent" else PARTNER_JOURNAL_KINDS


def brief_version_for(principal: Principal) -> BriefVersion:
    """The referent's version of the brief for referents; everybody else gets the partners'."""
    return "referent" if principal.role == "gpo_referent" else "partner"


def may_complete_action(principal: Principal, owner_partner: str | None) -> bool:
    """The referent marks done any action of its GPO; a partner only its organisation's."""
    if principal.role == "gpo_referent":
        return True
    return principal.role == "gpo_partner" and partner_of(principal) == owner_partner
