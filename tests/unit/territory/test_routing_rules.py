"""The competent service of a commune, as a table."""

from __future__ import annotations

import pytest

from intake_service.territory.rules.routing import (
    PoliceZoneEntry,
    competent_service,
    confidence_after_redirect,
    department_of,
    department_range,
    routing_confidence,
)

TOULOUSE = PoliceZoneEntry("ddsp-31", "DDSP de la Haute-Garonne")


@pytest.mark.parametrize(
    ("insee", "zone", "expected"),
    [
        ("31555", TOULOUSE, ("police", "ddsp-31")),  # listed: police zone
        ("31069", None, ("gendarmerie", "ggd-31")),  # not listed: gendarmerie zone
        ("75056", None, ("prefecture_de_police", "pp")),  # Paris
        ("92050", None, ("prefecture_de_police", "pp")),
        ("93066", TOULOUSE, ("prefecture_de_police", "pp")),  # the PP wins over the table
        ("94028", None, ("prefecture_de_police", "pp")),
        ("91228", None, ("gendarmerie", "ggd-91")),  # grande couronne: not the PP
        ("2A004", PoliceZoneEntry("ddsp-2a", "DDSP de Corse-du-Sud"), ("police", "ddsp-2a")),
        ("2B033", None, ("gendarmerie", "ggd-2b")),
        ("97411", PoliceZoneEntry("ddsp-974", "DTPN de La Réunion"), ("police", "ddsp-974")),
        ("97302", None, ("gendarmerie", "ggd-973")),
    ],
)
def test_competent_service(
    insee: str, zone: PoliceZoneEntry | None, expected: tuple[str, str]
) -> None:
    service = competent_service(insee, zone)
    assert (service.kind, service.code) == expected
    assert service.name


@pytest.mark.parametrize(
    ("insee", "department"), [("31555", "31"), ("2A004", "2A"), ("97411", "974"), ("01001", "01")]
)
def test_department_of(insee: str, department: str) -> None:
    assert department_of(insee) == department


@pytest.mark.parametrize(
    ("insee", "zone", "covered", "confidence"),
    [
        ("31555", TOULOUSE, True, "certain"),  # listed: police zone
        ("31069", None, True, "certain"),  # the table covers 31 and leaves it out: gendarmerie
        ("2A004", None, False, "assumed"),  # Ajaccio, with a table that knows nothing of 2A
        ("2A004", PoliceZoneEntry("ddsp-2a", "DDSP 2A"), True, "certain"),
        ("75056", None, False, "certain"),  # Paris: the Préfecture de police, table or not
        ("93066", None, False, "certain"),
        ("97302", None, False, "assumed"),
    ],
)
def test_routing_confidence(
    insee: str, zone: PoliceZoneEntry | None, covered: bool, confidence: str
) -> None:
    assert routing_confidence(competent_service(insee, zone), covered) == confidence


@pytest.mark.parametrize(
    ("department", "low", "high"),
    [
        ("31", "31", "32"),
        ("2A", "2A", "2B"),
        ("974", "974", "975"),
        ("09", "09", "10"),
        ("19", "19", "20"),
    ],
)
def test_department_range_holds_its_communes_only(department: str, low: str, high: str) -> None:
    assert department_range(department) == (low, high)
    start, end = department_range(department)
    assert start <= f"{department}001" < end
    assert not start <= "31555" < end or department == "31"


@pytest.mark.parametrize(
    ("before", "after"),
    [("assumed", "corrected"), ("certain", "certain"), (None, "certain"), ("corrected", "certain")],
)
def test_a_redirect_is_certain_and_corrects_an_assumed_routing(
    before: str | None, after: str
) -> None:
    assert confidence_after_redirect(before) == after
