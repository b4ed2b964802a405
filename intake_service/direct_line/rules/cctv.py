"""The CCTV requisition's rules: its states, who makes each step, what each step needs,
when the operator is alerted before the footage is erased, and the measure's count.
Pure: tested as tables in tests/unit/direct_line/test_cctv_rules.py.

The police side (the CIC of the competent service, or a station officer of that
service) requests; the operator, who holds the recorder, answers every step:
``requested`` → ``extracted`` (with its extraction reference) → ``handed_over`` (to
whom, when); or, from ``requested`` or ``extracted``, ``refused`` or ``erased`` (with a
reason). The requester does not cancel: a requisition it no longer needs is refused by
the operator at its request, with that reason (kept minimal on purpose).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

STATES = ("requested", "extracted", "handed_over", "refused", "erased")
OPEN_STATES = frozenset({"requested", "extracted"})
FINAL_STATES = frozenset({"handed_over", "refused", "erased"})
# Who requests the footage: the police side of the incident.
REQUESTER_ROLES = frozenset({"command_centre", "station_officer"})


@dataclass(frozen=True)
class Step:
    """A transition: the states it leaves, the role that makes it, the fields it needs."""

    sources: frozenset[str]
    role: str
    needs: tuple[str, ...]


STEPS: dict[str, Step] = {
    "extracted": Step(frozenset({"requested"}), "operator", ("extraction_reference",)),
    "handed_over": Step(frozenset({"extracted"}), "operator", ("handed_over_to",)),
    "refused": Step(frozenset({"requested", "extracted"}), "operator", ("reason",)),
    "erased": Step(frozenset({"requested", "extracted"}), "operator", ("reason",)),
}
TARGETS = tuple(STEPS)

# Before the erase deadline, a requisition still ``requested`` alerts the operator's
# functional mailbox at each threshold, once (issue 14): 24 h, then 2 h.
ALERTS: tuple[tuple[str, dt.timedelta], ...] = (
    ("24h", dt.timedelta(hours=24)),
    ("2h", dt.timedelta(hours=2)),
)


@dataclass(frozen=True)
class StepRefused:
    """Why a transition is refused: the field at fault, and whether it is a state
    conflict (409) or a missing input (422)."""

    field: str
    message: str
    conflict: bool


def check_step(state: str, target: str, given: Iterable[str]) -> StepRefused | None:
    """Whether a requisition in ``state`` may become ``target`` with the fields ``given``
    (the non-empty ones); None when it may. The role is checked first, by ``may_step``
    (a requester trying the operator's step is Forbidden, not refused)."""
    step = STEPS.get(target)
    if step is None:
        return StepRefused("state", f"Unknown state {target!r}.", conflict=False)
    if state not in step.sources:
        return StepRefused("state", f"A requisition {state} cannot become {target}.", conflict=True)
    missing = [name for name in step.needs if name not in set(given)]
    if missing:
        return StepRefused(missing[0], f"Required to make it {target}.", conflict=False)
    return None


def may_step(role: str, target: str) -> bool:
    step = STEPS.get(target)
    return step is not None and step.role == role


def alert_due(
    state: str,
    deadline: dt.datetime | None,
    alerted: dict[str, dt.datetime | None],
    now: dt.datetime,
) -> str | None:
    """The alert to write now (``24h`` or ``2h``), or None.

    Only a requisition still ``requested`` with a deadline not yet passed alerts. The
    tightest threshold reached wins: a requisition asked 10 h before the deadline gets
    its 24 h alert at once, and one asked 1 h before gets the 2 h alert only (the
    caller then marks the 24 h as passed, so it is never written late).
    """
    if state != "requested" or deadline is None or now >= deadline:
        return None
    for name, before in reversed(ALERTS):
        if now >= deadline - before:
            return None if alerted.get(name) is not None else name
    return None


def time_left(deadline: dt.datetime | None, now: dt.datetime) -> dt.timedelta | None:
    return None if deadline is None else deadline - now


def countdown(deadline: dt.datetime | None, now: dt.datetime) -> str:
    """``effacement dans 5 h 12``, ``effacement dans 2 j 3 h``, ``effacement dans 12 min``."""
    left = time_left(deadline, now)
    if left is None:
        return "date d'effacement inconnue"
    if left <= dt.timedelta(0):
        return "échéance d'effacement dépassée"
    minutes = int(left.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"effacement dans {days} j {hours} h"
    if hours:
        return f"effacement dans {hours} h {minutes:02d}"
    return f"effacement dans {minutes} min"


def extracted_in_time(extracted_at: dt.datetime | None, deadline: dt.datetime | None) -> bool:
    """The measure's count: extracted, and before the deadline (none known: in time)."""
    return extracted_at is not None and (deadline is None or extracted_at <= deadline)
