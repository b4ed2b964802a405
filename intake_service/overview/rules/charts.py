"""The national view's charts: bars per month (two series side by side) and horizontal
bars (one per GPO or nature family). Pure: figures in, SVG text out.

Built like the assessment chart (``gpo/rules/charts.py``, whose helpers they share):
``xml.etree`` escapes every text; the series differ by their fill (light grey, black),
not only by colour, and the legend repeats them; ``<title>`` and ``<desc>`` say in
French what the chart shows; presentation attributes only (the pages' CSP forbids
inline styles), the generic ``sans-serif`` font.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from intake_service.gpo.rules.charts import FONT, INK, SVG_NS, nice_ceiling, short_label
from intake_service.gpo.rules.charts import _sub as sub

FILLS = ("#d0d0d0", "#1a1a1a")
MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
             "nov.", "déc.")  # fmt: skip


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def month_label(key: str) -> str:
    """``2026-03`` → ``mars 26``."""
    year, month = key.split("-")
    return f"{MONTHS_FR[int(month) - 1]} {year[2:]}"


def _root(width: int, height: int, title: str, description: str, ident: str) -> ET.Element:
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "version": "1.1",
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "aria-labelledby": f"{ident}-title {ident}-desc",
            "font-family": FONT,
            "font-size": "11",
            "class": "graphique-national",
            "id": ident,
        },
    )
    sub(root, "title", title, id=f"{ident}-title")
    sub(root, "desc", description, id=f"{ident}-desc")
    sub(root, "rect", width=width, height=height, fill="#ffffff")
    sub(root, "text", title, x=10, y=18, font_size=14, font_weight="bold", fill=INK)
    return root


def monthly_chart(
    months: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    ident: str,
    width: int = 760,
    height: int = 300,
) -> str:
    """Bars per month (``YYYY-MM``), the series side by side; bars carry
    ``class="bar s<n>"``, ``data-month`` and ``data-count``."""
    description = (
        f"{title}, par mois : "
        + " ; ".join(
            f"{month_label(m)} " + ", ".join(f"{s.label} {s.values[i]}" for s in series)
            for i, m in enumerate(months)
        )
        + "."
        if months
        else "Aucun mois à afficher."
    )
    root = _root(width, height, title, description, ident)
    left, right, top, bottom = 44, 16, 56, 40
    plot_width, plot_height = width - left - right, height - top - bottom
    legend = sub(root, "g", class_="legend")
    for n, item in enumerate(series):
        at = left + 180 * n
        sub(legend, "rect", x=at, y=28, width=14, height=10, fill=FILLS[n % 2], stroke=INK)
        sub(legend, "text", item.label, x=at + 20, y=37, fill=INK)
    top_value, step = nice_ceiling(max([v for s in series for v in s.values] + [0]))
    baseline = top + plot_height

    def y_of(value: float) -> float:
        return baseline - plot_height * value / top_value

    axes = sub(root, "g", class_="axes", fill=INK)
    for tick in range(0, top_value + 1, step):
        y = round(y_of(tick), 1)
        sub(axes, "line", x1=left, y1=y, x2=left + plot_width, y2=y, stroke="#bbbbbb",
            stroke_width=0.5)  # fmt: skip
        sub(axes, "text", str(tick), x=left - 6, y=y + 4, text_anchor="end")
    sub(axes, "line", x1=left, y1=top, x2=left, y2=baseline, stroke=INK)
    sub(axes, "line", x1=left, y1=baseline, x2=left + plot_width, y2=baseline, stroke=INK)
    bars = sub(root, "g", class_="bars")
    band = plot_width / max(len(months), 1)
    bar_width = max(band * 0.76 / max(len(series), 1), 1.0)
    for index, month in enumerate(months):
        x = left + index * band + band * 0.12
        for n, item in enumerate(series):
            value = item.values[index]
            bar = sub(
                bars,
                "rect",
                class_=f"bar s{n}",
                data_month=month,
                data_count=value,
                x=round(x + n * bar_width, 1),
                y=round(y_of(value), 1),
                width=round(bar_width, 1),
                height=round(baseline - y_of(value), 1),
                fill=FILLS[n % 2],
                stroke=INK,
                stroke_width=0.8,
            )
            sub(bar, "title", f"{month_label(month)} : {value} {item.label.lower()}")
        sub(axes, "text", month_label(month), x=round(left + index * band + band / 2, 1),
            y=baseline + 16, text_anchor="middle", font_size=10)  # fmt: skip
    return ET.tostring(root, encoding="unicode")


def bar_list_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    ident: str,
    unit: str,
    width: int = 760,
) -> str:
    """One horizontal bar per item (a GPO, a nature family), its value written at its
    end; bars carry ``class="bar"``, ``data-label`` and ``data-count``."""
    row, top, left, right = 22, 34, 190, 60
    height = top + row * max(len(items), 1) + 12
    description = (
        f"{title} : " + " ; ".join(f"{label} {value} {unit}" for label, value in items) + "."
        if items
        else "Aucune donnée à afficher."
    )
    root = _root(width, height, title, description, ident)
    top_value, _ = nice_ceiling(max([value for _, value in items] + [0]))
    plot_width = width - left - right
    bars = sub(root, "g", class_="bars")
    for index, (label, value) in enumerate(items):
        y = top + index * row
        sub(bars, "text", short_label(label, 30), x=left - 8, y=y + 14, text_anchor="end",
            fill=INK)  # fmt: skip
        length = round(plot_width * value / top_value, 1)
        bar = sub(bars, "rect", class_="bar", data_label=label, data_count=value, x=left, y=y + 3,
                  width=length, height=row - 8, fill=FILLS[0], stroke=INK,
                  stroke_width=0.8)  # fmt: skip
        sub(bar, "title", f"{label} : {value} {unit}")
        sub(bars, "text", str(value), x=left + length + 6, y=y + 14, fill=INK)
    return ET.tostring(root, encoding="unicode")
