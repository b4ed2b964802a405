"""The problem lifecycle as a table: every move allowed or refused, and where it lands."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.gpo.rules import lifecycle as lc
from intake_service.gpo.rules.lifecycle import TransitionRefused

NOW = dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC)
WATCH_END = dt.datetime(2026, 6, 14, 17, 30, tzinfo=dt.UTC)

# (from, to, reason, steps recorded, landing state, watch_until)
ALLOWED = [
    ("reported", "qualified", None, ("qualified",), "qualified", None),
    ("qualified", "analysis", None, ("analysis",), "analysis", None),
    ("analysis", "action_plan", None, ("action_plan",), "action_plan", None),
    ("action_plan", "in_progress", None, ("in_progress",), "in_progress", None),
    ("action_plan", "analysis", None, ("analysis",), "analysis", None),
    ("in_progress", "assessment", None, ("assessment",), "assessment", None),
    ("assessment", "resolved", None, ("resolved",), "resolved", None),
    ("assessment", "improved", "Moins de faits", ("improved",), "improved", None),
    ("assessment", "in_progress", None, ("in_progress",), "in_progress", None),
    ("assessment", "not_resolved", "Aucune baisse", ("not_resolved", "analysis"), "analysis", None),
    ("resolved", "closed", None, ("closed", "watch"), "watch", WATCH_END),
    ("improved", "closed", None, ("closed", "watch"), "watch", WATCH_END),
    ("watch", "analysis", "Nouveaux jets de pierres", ("analysis",), "analysis", None),
    *[
        (state, end, "Hors compétence", (end,), end, None)
        for state in sorted(lc.OPEN_STATES)
        for end in ("abandoned", "out_of_scope")
    ],
]

# (from, to, reason, field at fault)
REFUSED = [
    ("reported", "analysis", None, "to"),
    ("reported", "closed", None, "to"),
    ("analysis", "resolved", None, "to"),
    ("in_progress", "resolved", None, "to"),
    ("assessment", "closed", None, "to"),
    ("assessment", "not_resolved", None, "reason"),
    ("assessment", "not_resolved", "   ", "reason"),
    ("analysis", "abandoned", None, "reason"),
    ("qualified", "out_of_scope", "", "reason"),
    ("closed", "analysis", None, "to"),
    ("watch", "abandoned", "x", "to"),
    ("abandoned", "analysis", None, "to"),
    ("out_of_scope", "qualified", None, "to"),
    ("reported", "watch", None, "to"),
    ("reported", "nonsense", None, "to"),
    ("reported", "qualified", "x" * (lc.REASON_MAX + 1), "reason"),
]


@pytest.mark.parametrize(("current", "to", "reason", "steps", "landing", "until"), ALLOWED)
def test_allowed_moves(
    current: str,
    to: str,
    reason: str | None,
    steps: tuple[str, ...],
    landing: str,
    until: dt.datetime | None,
) -> None:
    move = lc.plan(current, to, reason, NOW)
    assert (move.steps, move.state, move.watch_until) == (steps, landing, until)
    assert move.reason == (reason.strip() if reason else None)


@pytest.mark.parametrize(("current", "to", "reason", "field"), REFUSED)
def test_refused_moves(current: str, to: str, reason: str | None, field: str) -> None:
    with pytest.raises(TransitionRefused) as refused:
        lc.plan(current, to, reason, NOW)
    assert refused.value.field == field


def test_table_is_exactly_the_allowed_list() -> None:
    table = {(state, to) for state, targets in lc.TRANSITIONS.items() for to in targets}
    assert table == {(row[0], row[1]) for row in ALLOWED}


def test_linkable_states() -> None:
    assert set(lc.STATES) - lc.LINKABLE_STATES == {"closed", "abandoned", "out_of_scope"}
    assert "watch" in lc.LINKABLE_STATES


@pytest.mark.parametrize(
    ("state", "until", "now", "effective"),
    [
        ("watch", WATCH_END, WATCH_END - dt.timedelta(seconds=1), "watch"),
        ("watch", WATCH_END, WATCH_END, "closed"),
        ("watch", WATCH_END, WATCH_END + dt.timedelta(days=1), "closed"),
        ("watch", None, NOW, "watch"),
        ("analysis", WATCH_END, WATCH_END + dt.timedelta(days=1), "analysis"),
    ],
)
def test_effective_state(
    state: str, until: dt.datetime | None, now: dt.datetime, effective: str
) -> None:
    assert lc.effective_state(state, until, now) == effective
    assert lc.is_linkable(state, until, now) == (effective in lc.LINKABLE_STATES)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (
            dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC),
            dt.datetime(2027, 2, 28, 8, 0, tzinfo=dt.UTC),
        ),
        (
            dt.datetime(2027, 11, 30, 8, 0, tzinfo=dt.UTC),
            dt.datetime(2028, 2, 29, 8, 0, tzinfo=dt.UTC),
        ),
        (dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC)),
    ],
)
def test_watch_lasts_three_calendar_months(moment: dt.datetime, expected: dt.datetime) -> None:
    assert lc.plan("resolved", "closed", None, moment).watch_until == expected


def test_labels_name_every_state() -> None:
    from intake_service.platform.labels import PROBLEM_STATE_LABELS
    from schemas.gpo import PROBLEM_STATES

    assert tuple(PROBLEM_STATE_LABELS) == lc.STATES == PROBLEM_STATES
