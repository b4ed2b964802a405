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


# How sure the routing is: ``certain`` when the zone table covers the commune's
# département (or Paris and its inner suburbs, always the Préfecture de police);
# ``assumed`` when the table says nothing of that département, so the gendarmerie is a
# guess; ``corrected`` once a command centre redirected an assumed routing.
CONFIDENCES = ("certain", "assumed", "corrected")


def routing_confidence(service: CompetentService, covered: bool) -> str:
    """``certain`` or ``assumed`` for the service ``competent_service`` gave the commune;
    ``covered``: does the zone table cover the commune's département?

    A commune the table lists is in a police zone, and Paris and its inner suburbs
    belong to the Préfecture de police: certain. A commune absent from a table that
    covers its département is in a gendarmerie zone: certain. A commune of a
    département the table does not cover may be either: the gendarmerie is assumed
    (an Ajaccio sheet went to ``ggd-2a`` though Ajaccio is policed by the national
    police). Only a gendarmerie routing needs ``covered`` (the caller may skip its
    lookup otherwise).
    """
    return "certain" if service.kind != "gendarmerie" or covered else "assumed"


def confidence_after_redirect(previous: str | None) -> str:
    """A command centre's redirect is certain; it corrects an assumed routing (counted,
    so that the zone table can be completed)."""
    return "corrected" if previous == "assumed" else "certain"


def department_range(department: str) -> tuple[str, str]:
    """The INSEE codes of a département as a half-open range, for an index range scan:
    '31' → ('31', '32'), '09' → ('09', '10'), '2A' → ('2A', '2B'), '974' → ('974', '975').

    Digits and capitals only: a linguistic collation (PostgreSQL's default) may ignore
    punctuation, so ``'0:'`` would not bound ``'09…'`` there."""
    if department.isdigit():
        return department, str(int(department) + 1).zfill(len(department))
    return department, department[:-1] + chr(ord(department[-1]) + 1)


@dataclass(frozen=True)
class Routing:
    """Where an incident goes, and why."""

    service: CompetentService | None  # None: unrouted, goes to the national fallback feed
    insee_code: str | None
    basis: str | None  # stop, coordinates, insee_code
    confidence: str | None = None  # CONFIDENCES; None when unrouted

    @property
    def feed_code(self) -> str:
        return self.service.code if self.service else UNROUTED_SERVICE
