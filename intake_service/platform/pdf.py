"""PDF exports (the GPO meeting brief, the complaint summary) from one small document model.

A document is a title and a list of blocks; ``render`` lays them out on A4 with
fpdf2 (pure Python). French text needs more than Latin-1 (œ, ’, …): a Unicode
TrueType font is embedded when one is found (DejaVu Sans, shipped by Debian's
``fonts-dejavu-core``, which the Dockerfile installs); otherwise the PDF core font
is used and the few characters outside Latin-1 are spelled with their nearest
Latin-1 equivalents, so an export never fails on a character.
"""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# Outside Latin-1, for the core font only.
LATIN1_SPELLINGS = str.maketrans(
    {
        "œ": "oe",
        "Œ": "OE",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "\u202f": " ",
        "€": "EUR",
        "→": "->",
    }
)


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    # Emphasised: a warning the reader must not miss (e.g. the video erase date).
    strong: bool = False


@dataclass(frozen=True)
class Facts:
    """Label → value pairs, one per line."""

    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    # Relative column widths; equal when empty.
    widths: Sequence[float] = ()


@dataclass(frozen=True)
class Chart:
    """An SVG drawing (the assessment chart), scaled to ``width_mm``, with a caption."""

    svg: str
    caption: str = ""
    width_mm: float = 170.0


Block = Heading | Paragraph | Facts | Table | Chart


@dataclass(frozen=True)
class Document:
    title: str
    blocks: Sequence[Block]
    subtitle: str = ""
    # Printed in every page's footer (e.g. "Diffusion restreinte").
    footer: str = ""
    created_at: dt.datetime | None = None
    meta: dict[str, str] = field(default_factory=dict)


@cache
def _unicode_fonts() -> dict[str, Path] | None:
    for folder in FONT_DIRS:
        paths = {style: Path(folder) / name for style, name in FONT_FILES.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    return None


class _Pdf(FPDF):
    def __init__(self, document: Document) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.document = document
        fonts = _unicode_fonts()
        if fonts:
            for style, path in fonts.items():
                self.add_font("Body", style, str(path))
            self.body_font = "Body"
        else:
            self.body_font = "Helvetica"
        self.unicode = fonts is not None
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 16, 18)
        self.set_title(self.plain(document.title))
        self.set_creator("intake-service")
        if document.created_at is not None:
            self.set_creation_date(document.created_at)

    def plain(self, value: str) -> str:
        return value if self.unicode else _latin1(value)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.body_font, "", 8)
        self.set_text_color(90, 90, 90)
        left = self.plain(self.document.footer)
        self.cell(0, 5, left, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0, 0, 0)

    def line_break(self, height: float) -> None:
        self.ln(height)


def _heading(pdf: _Pdf, block: Heading) -> None:
    pdf.line_break(3)
    pdf.set_font(pdf.body_font, "B", 12)
    pdf.multi_cell(0, 6, pdf.plain(block.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(120, 120, 120)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.line_break(2)


def _paragraph(pdf: _Pdf, block: Paragraph) -> None:
    pdf.set_font(pdf.body_font, "B" if block.strong else "", 10)
    pdf.multi_cell(0, 5, pdf.plain(block.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.line_break(1.5)


def _facts(pdf: _Pdf, block: Facts) -> None:
    label_width = 55.0
    value_width = pdf.w - pdf.l_margin - pdf.r_margin - label_width
    for label, value in block.items:
        pdf.set_font(pdf.body_font, "B", 9.5)
        y = pdf.get_y()
        pdf.multi_cell(label_width, 5, pdf.plain(label), new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font(pdf.body_font, "", 9.5)
        pdf.multi_cell(value_width, 5, pdf.plain(value or "—"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(pdf.get_y(), y + 5))
    pdf.line_break(1.5)


def _table(pdf: _Pdf, block: Table) -> None:
    columns = len(block.headers)
    widths = list(block.widths) if len(block.widths) == columns else [1.0] * columns
    total = sum(widths)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    col_widths = tuple(width * share / total for share in widths)
    pdf.set_font(pdf.body_font, "", 8.5)
    with pdf.table(
        col_widths=col_widths,
        text_align="LEFT",
        line_height=4.5,
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
        first_row_as_headings=True,
        repeat_headings=1,
    ) as table:
        header = table.row()
        for text in block.headers:
            header.cell(pdf.plain(text))
        for values in block.rows:
            row = table.row()
            for value in values:
                row.cell(pdf.plain(value))
    pdf.line_break(2)


SVG_NAMESPACE = "http://www.w3.org/2000/svg"
# What fpdf2 does not draw, and warns about at each export: the screen reader's title
# and description, the hatching pattern's definition.
NOT_PRINTED = frozenset({"title", "desc", "defs"})


def _latin1(text: str) -> str:
    return text.translate(LATIN1_SPELLINGS).encode("latin-1", "replace").decode("latin-1")


def printable_svg(svg: str) -> str:
    """The SVG as fpdf2 can draw it (``Chart`` blocks go through this).

    fpdf2 draws an SVG's text with a PDF core font (``sans-serif`` is Helvetica),
    whatever font the document embeds: a character outside Latin-1 (a chart
    title's "—", a cut label's "…", an apostrophe "’") would fail the whole
    export. Those are spelled as ``pdf`` spells them for its core font. fpdf2 has
    no patterns: the linked bars, hatched on screen, are drawn white with their
    outline, and so is their legend, against the grey of the incidents in scope.
    """
    root = ET.fromstring(svg)  # noqa: S314 - our own charts (charts.py), not outside input
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag.rpartition("}")[2] in NOT_PRINTED:
                parent.remove(child)
    for element in root.iter():
        # Back to plain tags with the namespace declared once, as charts.py writes
        # them: fpdf2 recognises an SVG by its opening "<svg".
        element.tag = element.tag.rpartition("}")[2]
        if element.get("fill", "").startswith("url("):
            element.set("fill", "#ffffff")
        if element.text:
            element.text = _latin1(element.text)
    root.set("xmlns", SVG_NAMESPACE)
    return ET.tostring(root, encoding="unicode")


def _chart(pdf: _Pdf, block: Chart) -> None:
    width = min(block.width_mm, pdf.w - pdf.l_margin - pdf.r_margin)
    pdf.image(io.BytesIO(printable_svg(block.svg).encode("utf-8")), x=pdf.l_margin, w=width)
    if block.caption:
        pdf.set_font(pdf.body_font, "", 8.5)
        pdf.multi_cell(0, 4.5, pdf.plain(block.caption), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.line_break(2)


def render(document: Document) -> bytes:
    """The document as PDF bytes."""
    pdf = _Pdf(document)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(pdf.body_font, "B", 16)
    pdf.multi_cell(0, 8, pdf.plain(document.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if document.subtitle:
        pdf.set_font(pdf.body_font, "", 10.5)
        pdf.set_text_color(70, 70, 70)
        pdf.multi_cell(0, 5.5, pdf.plain(document.subtitle), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.line_break(3)
    for block in document.blocks:
        if isinstance(block, Heading):
            _heading(pdf, block)
        elif isinstance(block, Paragraph):
            _paragraph(pdf, block)
        elif isinstance(block, Facts):
            _facts(pdf, block)
        elif isinstance(block, Chart):
            _chart(pdf, block)
        else:
            _table(pdf, block)
    return bytes(pdf.output())
