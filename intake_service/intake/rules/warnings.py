"""Non-blocking remarks on an accepted sheet, returned to the operator as ``warnings``.

A warning never refuses a sheet: the command centre is better served by a sheet
with a doubt than by none. Each warning names the field it is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypedDict

JUST_HAPPENED_WINDOW = dt.timedelta(minutes=15)
PUBLIC_CCTV_RETENTION = dt.timedelta(days=31)
IMPRECISE_FIX_M = 1000.0


class SheetWarning(TypedDict):
    code: str
    field: str
    message: str


def sheet_warnings(sheet: Mapping[str, Any], now: dt.datetime) -> list[SheetWarning]:
    """The remarks on a valid (loaded) sheet at ``now``."""
    found: list[SheetWarning] = []

    def warn(code: str, field: str, message: str) -> None:
        found.append({"code": code, "field": field, "message": message})

    if sheet["state"] == "just_happened" and sheet["occurred_at"] < now - JUST_HAPPENED_WINDOW:
        warn(
            "state_older_than_15_minutes",
            "state",
            "'just_happened' means within the last 15 minutes; this one is older.",
        )

    video = sheet["video"]
    erased_after = video.get("erased_after")
    if erased_after is not None:
        if erased_after < now:
            warn(
                "video_already_erased", "video.erased_after", "The footage is already overwritten."
            )
        elif erased_after > sheet["occurred_at"] + PUBLIC_CCTV_RETENTION:
            warn(
                "video_retention_over_one_month",
                "video.erased_after",
                "Public CCTV is kept one month at most; check the erase date.",
            )

    if "weapon" in sheet["natures"] and sheet["suspects"]["weapon"] == "none":
        warn(
            "weapon_nature_without_weapon",
            "suspects.weapon",
            "The nature says a weapon was carried or shown, the suspects have none.",
        )

    coordinates = sheet["location"].get("coordinates")
    if coordinates and coordinates.get("accuracy_m", 0) > IMPRECISE_FIX_M:
        warn(
            "coordinates_imprecise",
            "location.coordinates.accuracy_m",
            "The position is accurate to more than 1 km only.",
        )

    for index, victim in enumerate(sheet["victims"]):
        consents = victim.get("consents") or {}
        if victim.get("wants_to_file_complaint") == "yes" and not consents.get(
            "appointment_contact"
        ):
            warn(
                "no_appointment_consent",
                f"victims.{index}.consents.appointment_contact",
                "Without this consent no priority complaint appointment can be booked.",
            )
    return found
