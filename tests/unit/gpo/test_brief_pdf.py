"""The meeting brief's PDF draws each problem's assessment chart, in both versions, with
whatever characters the titles and actions hold, and with either font."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET

import pypdf
import pytest

from intake_service.gpo import brief, brief_export
from intake_service.gpo.assessment import ProblemAssessment
from intake_service.gpo.rules import charts
from intake_service.gpo.rules.charts import Marker, WeekCount
from intake_service.platform import pdf

MONDAY = dt.date(2026, 1, 5)
NOW = dt.datetime(2026, 1, 23, 9, tzinfo=dt.UTC)
TITLE = "Vols à l’arraché — cœur de la ligne A"
LONG_ACTION = "Présence de l’équipe cynophile aux heures de sortie des collèges"
SVG = "{http://www.w3.org/2000/svg}"


def a_brief(version: brief.Version) -> brief.Brief:
    weeks = [
        WeekCount(MONDAY + dt.timedelta(weeks=index), in_scope, linked)
        for index, (in_scope, linked) in enumerate(((3, 1), (0, 0), (5, 2)))
    ]
    markers = [Marker(MONDAY + dt.timedelta(days=9), LONG_ACTION)]
    incidents: list[brief.ReferentIncident] | list[brief.PartnerIncident]
    if version == "partner":
        incidents = [brief.PartnerIncident(MONDAY, "Capitole", ("theft",))]
    else:
        incidents = [
            brief.ReferentIncident(
                "7d0c2f52-0000-4000-8000-000000000001",
                NOW - dt.timedelta(days=2),
                "Capitole",
                ("theft",),
                "P3",
                True,
                "Sac arraché à la sortie de la rame.",
            )
        ]
    return brief.Brief(
        gpo_code="gpo-toulouse",
        gpo_name="GPO transports Toulouse",
        meeting_date=NOW.date(),
        version=version,
        generated_at=NOW,
        problems=[
            brief.ProblemBrief(
                problem_id="p-1",
                title=TITLE,
                state="analysis",
                since=NOW - dt.timedelta(days=28),
                until=NOW,
                new_count=1,
                new_linked_count=1,
                incidents=incidents,
                actions_due=[],
                actions_late=[],
                figures=None,
                weekly=ProblemAssessment("p-1", TITLE, weeks, markers, None),
            )
        ],
    )


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("version", ["referent", "partner"])
def test_the_pdf_draws_the_chart_of_each_problem(font: str, version: brief.Version) -> None:
    text = text_of(brief_export.to_pdf(a_brief(version)))
    # The chart's own text: its title, legend, axis, weeks and the action's start. The
    # drawing's core font spells what Latin-1 lacks, whatever the document's font.
    for drawn in (
        "Incidents par semaine - Vols à l'arraché - coeur de la ligne A",
        "Dans le périmètre",
        "Rattachés au problème",
        "Début d'une action",
        "Semaine du",
        "05/01",
        "12/01",
        "19/01",
        "14/01 Présence de l'équipe...",
    ):
        assert drawn in text, drawn


def test_the_printable_chart_keeps_every_bar_and_only_latin_1_text() -> None:
    weekly = a_brief("partner").problems[0].weekly
    svg = charts.weekly_chart(weekly.weeks, weekly.markers, title=TITLE)
    page = ET.fromstring(svg)  # noqa: S314 - our own output, under test
    printable_svg = pdf.printable_svg(svg)
    # fpdf2 recognises an SVG by its opening tag: no namespace prefix.
    assert printable_svg.startswith("<svg ")
    printable = ET.fromstring(printable_svg)  # noqa: S314 - our own output, under test

    def bars(root: ET.Element, tag: str) -> list[tuple[str | None, str | None, str | None]]:
        return [
            (rect.get("class"), rect.get("data-count"), rect.get("height"))
            for rect in root.iter(f"{tag}rect")
            if (rect.get("class") or "").startswith("bar ")
        ]

    assert bars(printable, SVG) == bars(page, SVG)
    assert len(bars(page, SVG)) == 6
    # What fpdf2 cannot draw is gone (and so are its warnings): no <title>, <desc>,
    # <defs> or pattern fill; the linked bars are white with their outline.
    tags = {element.tag.rpartition("}")[2] for element in printable.iter()}
    assert tags.isdisjoint({"title", "desc", "defs", "pattern"})
    fills = {element.get("fill") for element in printable.iter()}
    assert not any(fill and fill.startswith("url(") for fill in fills)
    texts = [element.text or "" for element in printable.iter()]
    for value in texts:
        value.encode("latin-1")
    assert "Incidents par semaine" not in " ".join(texts)  # only the given title here
    assert "Vols à l'arraché - coeur de la ligne A" in texts
