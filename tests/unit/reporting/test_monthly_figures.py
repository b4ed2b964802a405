"""The monthly return's figures and CSV from sheets' facts, and the export's row. Pure."""

from __future__ import annotations

import csv
import datetime as dt
import io

from intake_service.reporting.rules import incident_columns, monthly_figures
from intake_service.reporting.rules.monthly_figures import SheetFacts


def facts(
    natures: tuple[str, ...], kinds: tuple[str, ...], route: str | None, insee: str | None
) -> SheetFacts:
    return SheetFacts(natures, kinds, route, insee)


SHEETS = [
    facts(("physical_assault_staff", "threat_or_insult_staff"), ("staff",), "L1", "31555"),
    facts(("theft", "weapon"), ("passenger", "third_party"), "L1", "31555"),
    facts(("other",), (), None, None),
]


def test_counts_by_family_victim_kind_line_and_commune() -> None:
    figures = monthly_figures.compute("2026-02", "tisseo", SHEETS)
    network = figures.network
    assert network.incidents == 3
    # Two natures of one family count once; two families count in each.
    assert {k: v for k, v in network.families.items() if v} == {
        "persons": 1,
        "property": 1,
        "weapons": 1,
        "other": 1,
    }
    assert (network.staff_victims, network.passenger_victims) == (1, 1)
    assert list(figures.lines) == ["", "L1"]
    assert figures.lines["L1"].incidents == 2
    assert list(figures.communes) == ["", "31555"]


def test_the_csv_is_the_same_bytes_for_the_same_sheets_in_any_order() -> None:
    first = monthly_figures.compute("2026-02", "tisseo", SHEETS)
    again = monthly_figures.compute("2026-02", "tisseo", list(reversed(SHEETS)))
    names = {"31555": "Toulouse"}.get
    assert monthly_figures.to_csv(first, lambda _: None, names) == monthly_figures.to_csv(
        again, lambda _: None, names
    )
    rows = list(
        csv.reader(io.StringIO(monthly_figures.to_csv(first, lambda _: "Ligne 1", names).decode()))
    )
    assert rows[0] == list(monthly_figures.CSV_COLUMNS)
    assert [row[2:5] for row in rows[1:]] == [
        ["network", "tisseo", ""],
        ["line", "", "sans ligne"],
        ["line", "L1", "Ligne 1"],
        ["commune", "", "sans commune"],
        ["commune", "31555", "Toulouse"],
    ]


def test_the_facts_of_a_stored_sheet_take_the_routed_commune_when_none_is_given() -> None:
    sheet = {
        "natures": ["theft"],
        "victims": [{"kind": "staff", "contact": {"name": "Agent Fictif"}}],
        "location": {"route_id": "line:142"},
    }
    assert monthly_figures.facts_of(sheet, "31555") == SheetFacts(
        ("theft",), ("staff",), "line:142", "31555"
    )


def test_an_export_row_has_paris_times_and_defused_cells() -> None:
    row = incident_columns.row(
        incident_columns.ExportFacts(
            incident_id="i-1",
            operator_reference="=HYPERLINK(1)",
            operator="tisseo",
            service=None,
            received_at=dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC),
            acknowledged_at=None,
            dispatched_at=None,
            closed_at=None,
            status="received",
            outcome=None,
            priority="P4",
            primary_nature="theft",
            natures=("theft", "vandalism"),
            mode=3,
            place="platform",
            route_id=None,
            stop_id="S1",
            insee_code="31555",
        )
    )
    assert len(row) == len(incident_columns.COLUMNS)
    assert row[1] == "'=HYPERLINK(1)"
    assert row[4] == "2026-07-01T10:00:00+02:00"
    assert row[5:8] == ["", "", ""]
    assert row[12] == "theft|vandalism"
