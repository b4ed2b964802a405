"""The lifecycle of a GPO problem (``shared/domain/gpo-problems.md``), as a table.

Pure: no I/O. The method is SARA: a problem is reported, qualified by the GPO,
analysed, gets an action plan, is worked on, then assessed. The assessment ends
in ``resolved``, ``improved`` or ``not_resolved``; a failed response goes back to
analysis (``not_resolved`` is recorded as a step and the problem lands in
``analysis``). A resolved or improved problem is ``closed`` and then watched for
three months (it lands in ``watch``): an incident in its scope during the watch
reopens it (the linker), after it the problem counts as closed
(``effective_state``). Any open problem may be ``abandoned`` or declared
``out_of_scope``, with a reason.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from schemas.vocabulary import INITIAL_PROBLEM_STATES, PROBLEM_STATES

STATES = PROBLEM_STATES
# A new problem starts here (an emerging cluster turned into a problem may start qualified).
INITIAL_STATES = INITIAL_PROBLEM_STATES
# Still being worked on: the states from which a problem may be abandoned.
OPEN_STATES = frozenset(
    {
        "reported",
        "qualified",
        "analysis",
        "action_plan",
        "in_progress",
        "assessment",
        "resolved",
        "improved",
    }
)
# Problems incidents may be linked to (a watched problem too: a new incident reopens it).
LINKABLE_STATES = frozenset(set(STATES) - {"closed", "abandoned", "out_of_scope"})
# States that are never where a problem stays: the step is recorded, the problem moves on.
PASSING_STATES = {"not_resolved": "analysis", "closed": "watch"}
# A problem reopened on recurrence goes back to analysis.
REOPENED_STATE = "analysis"
# Ending a problem this way needs a reason.
REASON_REQUIRED = frozenset({"not_resolved", "abandoned", "out_of_scope"})
WATCH_MONTHS = 3
REASON_MAX = 2000

# state -> the states one may ask to move to (beyond abandoned / out_of_scope).
_FORWARD: dict[str, frozenset[str]] = {
    "reported": frozenset({"qualified"}),
    "qualified": frozenset({"analysis"}),
    "analysis": frozenset({"action_plan"}),
    "action_plan": frozenset({"in_progress", "analysis"}),
    "in_progress": frozenset({"assessment"}),
    "assessment": frozenset({"resolved", "improved", "not_resolved", "in_progress"}),
    "resolved": frozenset({"closed"}),
    "improved": frozenset({"closed"}),
    "watch": frozenset({REOPENED_STATE}),
}
TRANSITIONS: dict[str, frozenset[str]] = {
    state: _FORWARD.get(state, frozenset())
    | (frozenset({"abandoned", "out_of_scope"}) if state in OPEN_STATES else frozenset())
    for state in STATES
}
# Every state one may ask for.
TARGETS = tuple(state for state in STATES if any(state in to for to in TRANSITIONS.values()))


class TransitionRefused(ValueError):
    """The move is not allowed; ``field`` names the input at fault (``to`` or ``reason``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Move:
    """What a transition does: the steps to record, where the problem lands."""

    steps: tuple[str, ...]
    state: str
    reason: str | None
    watch_until: dt.datetime | None


def allowed_targets(state: str) -> list[str]:
    """The states one may ask for from ``state``, in lifecycle order."""
    allowed = TRANSITIONS.get(state, frozenset())
    return [target for target in STATES if target in allowed]


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` plus calendar months; the 31st becomes the last day of a shorter month."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def plan(current: str, to: str, reason: str | None, now: dt.datetime) -> Move:
    """The move from ``current`` to ``to``, or TransitionRefused saying why not."""
    reason = (reason or "").strip() or None
    if to not in STATES:
        raise TransitionRefused(f"Unknown state {to!r}.", "to")
    if to not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(allowed_targets(current)) or "none"
        raise TransitionRefused(
            f"A problem in state {current!r} cannot move to {to!r} (allowed: {allowed}).", "to"
        )
    if to in REASON_REQUIRED and reason is None:
        raise TransitionRefused(f"A reason is required to move to {to!r}.", "reason")
    if reason is not None and len(reason) > REASON_MAX:
        raise TransitionRefused(f"The reason is longer than {REASON_MAX} characters.", "reason")
    landing = PASSING_STATES.get(to, to)
    steps = (to, landing) if landing != to else (to,)
    watch_until = add_months(now, WATCH_MONTHS) if landing == "watch" else None
    return Move(steps=steps, state=landing, reason=reason, watch_until=watch_until)


def effective_state(state: str, watch_until: dt.datetime | None, now: dt.datetime) -> str:
    """The state a problem counts as: a watch that has run out counts as closed."""
    if state == "watch" and watch_until is not None and now >= watch_until:
        return "closed"
    return state


def is_linkable(state: str, watch_until: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether incidents may be linked to a problem in ``state`` at ``now``."""
    return effective_state(state, watch_until, now) in LINKABLE_STATES
