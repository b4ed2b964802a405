"""The assessment chart's SVG: bars per week, markers in order, escaped text, printable."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from intake_service.gpo.rules.charts import (
    Marker,
    WeekCount,
    nice_ceiling,
    short_label,
    weekly_chart,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
MONDAY = dt.date(2026, 1, 5)


def weeks(*counts: tuple[int, int]) -> list[WeekCount]:
    return [
        WeekCount(MONDAY + dt.timedelta(weeks=index), in_scope, linked)
        for index, (in_scope, linked) in enumerate(counts)
    ]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, the very thing under test


def bars(root: ET.Element, kind: str) -> list[ET.Element]:
    return [rect for rect in root.iterfind(".//svg:rect", NS) if rect.get("class") == f"bar {kind}"]


def test_one_bar_of_each_series_per_week_with_heights_in_proportion() -> None:
    root = parse(weekly_chart(weeks((4, 2), (0, 0), (2, 1)), [], title="Ligne 12"))
    in_scope, linked = bars(root, "in-scope"), bars(root, "linked")
    assert [bar.get("data-week") for bar in in_scope] == ["2026-01-05", "2026-01-12", "2026-01-19"]
    assert [bar.get("data-count") for bar in in_scope] == ["4", "0", "2"]
    assert [bar.get("data-count") for bar in linked] == ["2", "0", "1"]
    heights = [float(bar.get("height", "")) for bar in in_scope]
    assert heights[1] == 0
    assert heights[0] == pytest.approx(2 * heights[2], abs=0.2)
    assert float(linked[0].get("height", "")) == pytest.approx(heights[2], abs=0.2)


def test_markers_in_date_order_at_their_day_and_outside_ones_dropped() -> None:
    markers = [
        Marker(dt.date(2026, 1, 21), "Vidéoprotection"),
        Marker(dt.date(2026, 1, 6), "Patrouilles de nuit"),
        Marker(dt.date(2025, 12, 1), "Avant le graphique"),
        Marker(dt.date(2026, 2, 2), "Après le graphique"),
    ]
    root = parse(weekly_chart(weeks((1, 0), (1, 1), (3, 2), (1, 1)), markers, title="t"))
    groups = [g for g in root.iterfind(".//svg:g", NS) if g.get("class") == "marker"]
    assert [g.get("data-date") for g in groups] == ["2026-01-06", "2026-01-21"]
    xs = [float(g.find("svg:line", NS).get("x1", "")) for g in groups]  # type: ignore[union-attr]
    assert xs[0] < xs[1]
    # 21/01 is a Wednesday of the third week: between that week's bars' start and the next.
    third = bars(root, "in-scope")[2]
    fourth = bars(root, "in-scope")[3]
    assert float(third.get("x", "")) < xs[1] < float(fourth.get("x", ""))
    labels = [g.find("svg:text", NS).text for g in groups]  # type: ignore[union-attr]
    assert labels == ["06/01 Patrouilles de nuit", "21/01 Vidéoprotection"]
    # Dashed: the marker reads in black and white.
    assert all(g.find("svg:line", NS).get("stroke-dasharray") for g in groups)  # type: ignore[union-attr]


def test_text_is_escaped_and_the_document_stays_well_formed() -> None:
    nasty = 'Ligne <12> & "Beaucaire" </svg><script>alert(1)</script>'
    svg = weekly_chart(weeks((1, 1)), [Marker(MONDAY, "<b>&</b>")], title=nasty)
    root = parse(svg)  # raises if anything broke out of its text node
    assert root.find("svg:title", NS).text == nasty  # type: ignore[union-attr]
    assert "<script" not in svg
    assert root.find(".//svg:script", NS) is None
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in svg


def test_accessible_and_printable() -> None:
    svg = weekly_chart(
        weeks((2, 1), (5, 3)), [Marker(dt.date(2026, 1, 13), "Médiation")], title="Jets"
    )
    root = parse(svg)
    assert root.get("role") == "img"
    description = root.find("svg:desc", NS).text or ""  # type: ignore[union-attr]
    assert "05/01 2 / 1" in description
    assert "12/01 5 / 3" in description
    assert "13/01 Médiation" in description
    # The linked series is hatched (a pattern), not a second colour only.
    assert all(bar.get("fill") == "url(#hatch-linked)" for bar in bars(root, "linked"))
    assert root.find(".//svg:pattern[@id='hatch-linked']", NS) is not None
    # No inline style (the pages' CSP), no external font or resource.
    assert "style" not in svg
    assert "@import" not in svg
    assert "href" not in svg
    # Week dates in French order on the axis.
    texts = [t.text for t in root.iterfind(".//svg:text", NS)]
    assert "05/01" in texts
    assert "12/01" in texts


def test_no_weeks_still_draws_a_valid_chart() -> None:
    root = parse(weekly_chart([], [Marker(MONDAY, "x")], title="Vide"))
    assert bars(root, "in-scope") == []
    assert "Aucune semaine" in (root.find("svg:desc", NS).text or "")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "expected"), [(0, (1, 1)), (3, (3, 1)), (7, (8, 2)), (23, (25, 5)), (180, (200, 50))]
)
def test_axis_top_is_a_round_number(value: int, expected: tuple[int, int]) -> None:
    assert nice_ceiling(value) == expected


def test_short_label_cuts_with_an_ellipsis() -> None:
    assert short_label("Patrouilles   de nuit") == "Patrouilles de nuit"
    cut = short_label("Opération conjointe avec la police municipale", 20)
    assert len(cut) == 20
    assert cut.endswith("…")
