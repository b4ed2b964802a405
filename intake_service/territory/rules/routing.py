"""Which police service is competent for a commune (``command-centre.md``, Routing).

Pure rules: the caller finds the commune (from the stop, the coordinates or the
given INSEE code) and looks the commune up in the police-zone table; this module
decides. A line crosses zones, so routing is per incident, never per line.
"""

from __future__ import annotations

from dataclasses import dataclass

# Paris and the inner suburbs: the Préfecture de police is competent.
PREFECTURE_DE_POLICE_DEPARTMENTS = frozenset({"75", "92", "93", "94"})
PREFECTURE_DE_POLICE = ("pp", "Préfecture de police")
UNROUTED_SERVICE = "unrouted"


@dataclass(frozen=True)
class CompetentService:
    kind: str  # police, gendarmerie, prefecture_de_police
    code: str  # ddsp-83, ggd-31, pp
    name: str

    @property
    def police_zone(self) -> str:
        return self.kind


@dataclass(frozen=True)
class PoliceZoneEntry:
    """A row of the deployment's police-zone table."""

    service_code: str
    service_name: str


# Metropolitan départements (01–95 with 2A/2B for Corsica, no 20) and the five overseas ones.
DEPARTMENTS = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "972", "973", "974", "976"]
)


def department_of(insee_code: str) -> str:
    """'31555' → '31', '2A004' → '2A', '97411' → '974' (overseas use three digits)."""
    return insee_code[:3] if insee_code.startswith("97") else insee_code[:2]


def competent_service(insee_code: str, police_zone: PoliceZoneEntry | None) -> CompetentService:
    """The service competent in ``insee_code``.

    A commune listed in the police-zone table goes to that police service;
    Paris and the inner suburbs to the Préfecture de police; every other commune
    is in a gendarmerie zone and goes to the gendarmerie of its département.
    """
    department = department_of(insee_code)
    if department in PREFECTURE_DE_POLICE_DEPARTMENTS:
        code, name = PREFECTURE_DE_POLICE
        return CompetentService("prefecture_de_police", code, name)
    if police_zone is not None:
        return CompetentService("police", police_zone.service_code, police_zone.service_name)
    return CompetentService(
        "gendarmerie",
        f"ggd-{department.lower()}",
        f"Groupement de gendarmerie départementale {department}",
    )


@dataclass(frozen=True)
class Routing:
    """Where an incident goes, and why."""

    service: CompetentService | None  # None: unrouted, goes to the national fallback feed
    insee_code: str | None
    basis: str | None  # stop, coordinates, insee_code

    @property
    def feed_code(self) -> str:
        return self.service.code if self.service else UNROUTED_SERVICE
