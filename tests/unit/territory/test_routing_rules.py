"""The competent service of a commune, as a table."""

from __future__ import annotations

import pytest

from intake_service.territory.rules.routing import PoliceZoneEntry, competent_service, department_of

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
