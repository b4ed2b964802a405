"""The families of the sheet's natures: one vocabulary of "like facts", for the GPO's
emerging problems and the command centre's duplicate reports. Pure."""

from __future__ import annotations

from collections.abc import Iterable

NATURE_FAMILIES: dict[str, tuple[str, ...]] = {
    "persons": (
        "physical_assault_staff",
        "threat_or_insult_staff",
        "violence_passenger",
        "sexual_or_sexist_violence",
        "violent_theft",
    ),
    "property": ("theft", "vandalism"),
    "projectile": ("projectile",),
    "drugs": ("drugs",),
    "weapons": ("weapon", "suspicious_package"),
    "fraud": ("fare_evasion_with_resistance",),
    "incivility": ("incivility",),
    "other": ("other",),
}
FAMILY_OF_NATURE: dict[str, str] = {
    nature: family for family, natures in NATURE_FAMILIES.items() for nature in natures
}
FAMILY_LABELS: dict[str, str] = {
    "persons": "atteintes aux personnes",
    "property": "atteintes aux biens",
    "projectile": "jets de projectiles",
    "drugs": "stupéfiants",
    "weapons": "armes et colis suspects",
    "fraud": "fraude avec rébellion",
    "incivility": "incivilités",
    "other": "autres faits",
}


def family_of(natures: Iterable[str]) -> set[str]:
    return {FAMILY_OF_NATURE.get(nature, "other") for nature in natures}
