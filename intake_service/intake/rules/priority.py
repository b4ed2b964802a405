"""Command-centre priority of a sheet: the rules of ``shared/domain/command-centre.md``.

Priority is computed, never claimed by the operator. The rules are one ordered
table: the first row whose condition holds gives the priority. A sheet given to
``priority_of`` has already passed ``schemas.sheet.SheetSchema`` (loaded form:
datetimes are aware ``datetime`` objects).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.vocabulary import SEVERITIES

Sheet = Mapping[str, Any]

PHYSICAL_VIOLENCE = frozenset(
    {"physical_assault_staff", "violence_passenger", "violent_theft", "sexual_or_sexist_violence"}
)
VIDEO_ERASE_HORIZON = dt.timedelta(hours=72)


def suspects_held_by_staff(sheet: Sheet, now: dt.datetime) -> bool:
    """Staff are holding someone (art. 73 CPP): police must come now, whatever the state."""
    return bool(sheet["suspects"]["status"] == "held_by_staff")


def in_progress_with_danger(sheet: Sheet, now: dt.datetime) -> bool:
    """In progress with a weapon, an injury, physical violence or a distress radio call."""
    return sheet["state"] == "in_progress" and (
        sheet["suspects"]["weapon"] != "none"
        or has_injury(sheet)
        or bool(PHYSICAL_VIOLENCE.intersection(sheet["natures"]))
        or sheet["channel"] == "distress_radio"
    )


def in_progress(sheet: Sheet, now: dt.datetime) -> bool:
    return bool(sheet["state"] == "in_progress")


def just_happened_suspects_around(sheet: Sheet, now: dt.datetime) -> bool:
    """It just happened and the suspects are still there or just ran."""
    return sheet["state"] == "just_happened" and sheet["suspects"]["status"] in ("on_site", "fled")


def video_erased_soon(sheet: Sheet, now: dt.datetime) -> bool:
    """Footage will be overwritten within 72 hours: police must requisition it now."""
    video = sheet["video"]
    erased_after = video.get("erased_after")
    # Footage already overwritten is beyond requisition: no reason to hurry.
    return (
        video["exists"] == "yes"
        and erased_after is not None
        and now <= erased_after <= now + VIDEO_ERASE_HORIZON
    )


def staff_victim_may_file_complaint(sheet: Sheet, now: dt.datetime) -> bool:
    return any(
        victim["kind"] == "staff" and victim.get("wants_to_file_complaint") in ("yes", "undecided")
        for victim in sheet["victims"]
    )


@dataclass(frozen=True)
class Rule:
    priority: str
    reason: str
    applies: Callable[[Sheet, dt.datetime], bool]


# Read top-down; the first rule that applies wins. P3 applies to any sheet not
# already P1/P2 (an ``over`` sheet in the table's words, but also a sheet that
# just happened with the suspects gone): both need the same follow-up.
RULES: tuple[Rule, ...] = (
    Rule("P1", "suspects_held_by_staff", suspects_held_by_staff),
    Rule("P1", "in_progress_with_danger", in_progress_with_danger),
    Rule("P2", "in_progress", in_progress),
    Rule("P2", "just_happened_suspects_around", just_happened_suspects_around),
    Rule("P3", "video_erased_soon", video_erased_soon),
    Rule("P3", "staff_victim_may_file_complaint", staff_victim_may_file_complaint),
)
DEFAULT_PRIORITY = "P4"


@dataclass(frozen=True)
class PriorityDecision:
    priority: str
    reason: str
    # Orders incidents within one priority; smaller comes first.
    rank: int


def has_injury(sheet: Sheet) -> bool:
    return bool(
        sheet["injuries"]["severity"] != "none"
        or any(victim["injury"] != "none" for victim in sheet["victims"])
    )


def worst_severity(sheet: Sheet) -> int:
    """Index in SEVERITIES of the worst injury on the sheet (0 = none)."""
    severities = [sheet["injuries"]["severity"], *(victim["injury"] for victim in sheet["victims"])]
    return max(SEVERITIES.index(severity) for severity in severities)


WEAPON_RANK = {"firearm": 4, "blade": 3, "object": 2, "unknown": 1, "none": 0}


def rank_within_priority(sheet: Sheet) -> int:
    """Weapon, then injury severity, then a staff victim, then suspects present.

    Packed into one integer (smaller first) so the database can order by it;
    "the most recent" is the tie-breaker the queries add (latest ``received_at`` first).
    """
    weapon = WEAPON_RANK[sheet["suspects"]["weapon"]]
    severity = worst_severity(sheet)
    staff_victim = any(victim["kind"] == "staff" for victim in sheet["victims"])
    suspects_present = sheet["suspects"]["status"] in ("on_site", "held_by_staff")
    score = weapon * 1000 + severity * 100 + int(staff_victim) * 10 + int(suspects_present)
    return 9999 - score


def assess(sheet: Sheet, now: dt.datetime) -> PriorityDecision:
    """The priority of ``sheet`` at ``now``, with the rule that decided it."""
    rank = rank_within_priority(sheet)
    for rule in RULES:
        if rule.applies(sheet, now):
            return PriorityDecision(rule.priority, rule.reason, rank)
    return PriorityDecision(DEFAULT_PRIORITY, "record", rank)
