"""The priority rules of command-centre.md, row by row, with their edges."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from intake_service.intake.rules.priority import assess, rank_within_priority
from schemas.sheet import SheetSchema, evaluated_at
from tests.conftest import REFERENCE_INSTANT
from tests.factories import a_sheet

NOW = REFERENCE_INSTANT


def calm_sheet() -> dict[str, Any]:
    """An ``over`` sheet with nothing that raises its priority: P4."""
    return a_sheet(
        channel="phone",
        state="over",
        occurred_at="2026-03-14T17:00:00+01:00",
        natures=["vandalism"],
        primary_nature="vandalism",
        injuries={"count": 0, "severity": "none"},
        suspects={"count": 1, "status": "unknown", "weapon": "none"},
        victims=[],
        video={"exists": "no"},
    )


def with_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """calm_sheet() with dotted paths set, loaded as the API would load it."""
    sheet = calm_sheet()
    for path, value in changes.items():
        node = sheet
        *parents, leaf = path.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = copy.deepcopy(value)
    with evaluated_at(NOW):
        return SheetSchema().load(sheet)


IN_PROGRESS = {"state": "in_progress", "occurred_at": "2026-03-14T18:25:00+01:00"}
STAFF_VICTIM = {
    "kind": "staff",
    "staff_function": "driver",
    "on_duty": True,
    "injury": "none",
    "wants_to_file_complaint": "no",
}

# (case, changes to the calm sheet, expected priority, rule that decides)
PRIORITY_TABLE: list[tuple[str, dict[str, Any], str, str]] = [
    # P1: held_by_staff, whatever the state
    ("held by staff, over", {"suspects.status": "held_by_staff"}, "P1", "suspects_held_by_staff"),
    (
        "held by staff, in progress",
        {**IN_PROGRESS, "suspects.status": "held_by_staff"},
        "P1",
        "suspects_held_by_staff",
    ),
    (
        "held by staff, just happened",
        {"state": "just_happened", "suspects.status": "held_by_staff"},
        "P1",
        "suspects_held_by_staff",
    ),
    # P1: in progress and any of weapon / injury / physical violence / distress radio
    (
        "in progress, blade",
        {**IN_PROGRESS, "suspects.weapon": "blade"},
        "P1",
        "in_progress_with_danger",
    ),
    (
        "in progress, unknown weapon",
        {**IN_PROGRESS, "suspects.weapon": "unknown"},
        "P1",
        "in_progress_with_danger",
    ),
    (
        "in progress, injury",
        {**IN_PROGRESS, "injuries": {"count": 1, "severity": "minor"}},
        "P1",
        "in_progress_with_danger",
    ),
    (
        "in progress, injured victim only",
        {**IN_PROGRESS, "victims": [{"kind": "passenger", "injury": "treated_on_site"}]},
        "P1",
        "in_progress_with_danger",
    ),
    *[
        (
            f"in progress, {nature}",
            {**IN_PROGRESS, "natures": [nature], "primary_nature": nature},
            "P1",
            "in_progress_with_danger",
        )
        for nature in (
            "physical_assault_staff",
            "violence_passenger",
            "violent_theft",
            "sexual_or_sexist_violence",
        )
    ],
    (
        "distress radio, in progress, no injury",
        {**IN_PROGRESS, "channel": "distress_radio"},
        "P1",
        "in_progress_with_danger",
    ),
    # P2
    ("in progress, nothing else", IN_PROGRESS, "P2", "in_progress"),
    (
        "in progress, threat (not physical)",
        {
            **IN_PROGRESS,
            "natures": ["threat_or_insult_staff"],
            "primary_nature": "threat_or_insult_staff",
        },
        "P2",
        "in_progress",
    ),
    (
        "just happened, suspects on site",
        {"state": "just_happened", "suspects.status": "on_site"},
        "P2",
        "just_happened_suspects_around",
    ),
    (
        "just happened, suspects fled",
        {
            "state": "just_happened",
            "suspects.status": "fled",
            "suspects.flight_direction": "Vers le métro",
        },
        "P2",
        "just_happened_suspects_around",
    ),
    # Edge: injuries with just_happened is not P1 (P1 needs in_progress)
    (
        "just happened, injury, suspects fled",
        {
            "state": "just_happened",
            "injuries": {"count": 2, "severity": "hospitalised"},
            "suspects.status": "fled",
            "suspects.flight_direction": "Nord",
        },
        "P2",
        "just_happened_suspects_around",
    ),
    (
        "just happened, injury, suspects unknown",
        {"state": "just_happened", "injuries": {"count": 1, "severity": "minor"}},
        "P4",
        "record",
    ),
    # Edge: distress radio without in_progress is not P1
    ("distress radio, over", {"channel": "distress_radio"}, "P4", "record"),
    # P3
    (
        "over, video erased within 72 h",
        {
            "video": {
                "exists": "yes",
                "sources": ["station"],
                "erased_after": "2026-03-16T18:00:00+01:00",
            }
        },
        "P3",
        "video_erased_soon",
    ),
    (
        "over, staff victim wants to file a complaint",
        {
            "victims": [
                {
                    **STAFF_VICTIM,
                    "wants_to_file_complaint": "yes",
                    "contact": {"name": "A. B.", "phone": "0612345678"},
                }
            ]
        },
        "P3",
        "staff_victim_may_file_complaint",
    ),
    (
        "over, staff victim undecided",
        {"victims": [{**STAFF_VICTIM, "wants_to_file_complaint": "undecided"}]},
        "P3",
        "staff_victim_may_file_complaint",
    ),
    # P4
    (
        "over, video erased in 4 days",
        {
            "video": {
                "exists": "yes",
                "sources": ["station"],
                "erased_after": "2026-03-18T18:31:00+01:00",
            }
        },
        "P4",
        "record",
    ),
    ("over, staff victim does not want to file", {"victims": [STAFF_VICTIM]}, "P4", "record"),
    ("over, weapon", {"suspects.weapon": "firearm"}, "P4", "record"),
    ("over, nothing", {}, "P4", "record"),
]


@pytest.mark.parametrize(
    ("changes", "priority", "reason"),
    [
        pytest.param(changes, priority, reason, id=case)
        for case, changes, priority, reason in PRIORITY_TABLE
    ],
)
def test_priority_table(changes: dict[str, Any], priority: str, reason: str) -> None:
    assessment = assess(with_changes(changes), NOW)
    assert (assessment.priority, assessment.reason) == (priority, reason)


def test_video_horizon_is_measured_from_now() -> None:
    sheet = with_changes(
        {
            "video": {
                "exists": "yes",
                "sources": ["station"],
                "erased_after": "2026-03-17T18:30:00+01:00",
            }
        }
    )
    assert assess(sheet, NOW).priority == "P3"  # exactly 72 h
    assert assess(sheet, NOW - dt.timedelta(minutes=1)).priority == "P4"


def test_order_within_a_priority() -> None:
    """Weapon, then injury severity, then a staff victim, then suspects present."""
    firearm = with_changes({"suspects.weapon": "firearm"})
    blade_hospitalised = with_changes(
        {"suspects.weapon": "blade", "injuries": {"count": 1, "severity": "hospitalised"}}
    )
    blade_minor = with_changes(
        {"suspects.weapon": "blade", "injuries": {"count": 1, "severity": "minor"}}
    )
    minor_staff = with_changes(
        {"injuries": {"count": 1, "severity": "minor"}, "victims": [STAFF_VICTIM]}
    )
    minor_only = with_changes({"injuries": {"count": 1, "severity": "minor"}})
    present = with_changes({"suspects.status": "on_site"})
    nothing = with_changes({})
    ranked = [firearm, blade_hospitalised, blade_minor, minor_staff, minor_only, present, nothing]
    ranks = [rank_within_priority(sheet) for sheet in ranked]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)


def test_footage_already_overwritten_does_not_hurry_anyone() -> None:
    sheet = with_changes(
        {
            "video": {
                "exists": "yes",
                "sources": ["station"],
                "erased_after": "2026-03-14T18:00:00+01:00",
            }
        }
    )
    assert assess(sheet, NOW).priority == "P4"
