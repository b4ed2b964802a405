"""The assessment chart: incidents per week, in scope and linked, with the actions marked.

Pure: data in, SVG text out, no I/O. The SVG is built with ``xml.etree`` so every
text is escaped by the serializer, never by hand. It must read on a screen, on a
black-and-white printout and to a screen reader:

- the two series differ by their pattern (plain light grey / black hatching), not
  only by colour; the legend repeats the patterns;
- each action's start is a dashed vertical line with a short label;
- ``<title>`` and ``<desc>`` say, in French, what the chart shows, week by week;
- presentation attributes only (no ``<style>``, no ``style=""``: the pages' CSP
  forbids inline styles), no script, the generic ``sans-serif`` font (no web font).
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "sans-serif"
INK = "#1a1a1a"
IN_SCOPE_FILL = "#d0d0d0"
LABEL_LENGTH = 22


@dataclass(frozen=True)
class WeekCount:
    """One week (its Monday) and its incidents: in the problem's scope, and linked to it."""

    week: dt.date
    in_scope: int
    linked: int


@dataclass(frozen=True)
class Marker:
    """An action's start, drawn as a vertical line at ``on``."""

    on: dt.date
    label: str


def day_month(day: dt.date) -> str:
    """``dd/mm``, as the French read a date on an axis."""
    return day.strftime("%d/%m")


def short_label(text: str, length: int = LABEL_LENGTH) -> str:
    """One line of at most ``length`` characters, cut with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def nice_ceiling(value: int) -> tuple[int, int]:
    """The top of the y axis and its tick step: round numbers, at most about 5 ticks."""
    if value <= 0:
        return 1, 1
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return step * math.ceil(value / step), step


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: object) -> ET.Element:
    element = ET.SubElement(
        parent, tag, {key.rstrip("_").replace("_", "-"): str(v) for key, v in attributes.items()}
    )
    if text is not None:
        element.text = text
    return element


def describe(weeks: Sequence[WeekCount], markers: Sequence[Marker]) -> str:
    """The chart in words, for screen readers and for whoever cannot see it."""
    if not weeks:
        return "Aucune semaine à afficher."
    parts = [
        f"Incidents par semaine, du {day_month(weeks[0].week)} au "
        f"{day_month(weeks[-1].week + dt.timedelta(days=6))} : "
        f"{sum(w.in_scope for w in weeks)} dans le périmètre, "
        f"{sum(w.linked for w in weeks)} rattachés au problème."
    ]
    parts.append(
        "Semaine par semaine (périmètre / rattachés) : "
        + " ; ".join(f"{day_month(w.week)} {w.in_scope} / {w.linked}" for w in weeks)
        + "."
    )
    if markers:
        parts.append(
            "Début des actions : "
            + " ; ".join(f"{day_month(m.on)} {' '.join(m.label.split())}" for m in markers)
            + "."
        )
    return " ".join(parts)


def weekly_chart(
    weeks: Sequence[WeekCount],
    markers: Sequence[Marker],
    *,
    title: str,
    width: int = 760,
    height: int = 340,
) -> str:
    """The SVG document of the chart: one pair of bars per week, one line per action start.

    Bars carry ``class="bar in-scope"`` / ``class="bar linked"`` and ``data-week``;
    markers ``class="marker"`` and ``data-date``, in date order.
    """
    left, right, top, bottom = 44, 16, 64, 46
    plot_width = width - left - right
    plot_height = height - top - bottom
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "version": "1.1",
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "aria-labelledby": "chart-title chart-desc",
            "font-family": FONT,
            "font-size": "11",
        },
    )
    _sub(root, "title", title, id="chart-title")
    _sub(root, "desc", describe(weeks, markers), id="chart-desc")
    defs = _sub(root, "defs")
    hatch = _sub(
        defs,
        "pattern",
        id="hatch-linked",
        patternUnits="userSpaceOnUse",
        width=6,
        height=6,
        patternTransform="rotate(45)",
    )
    _sub(hatch, "rect", width=6, height=6, fill="#ffffff")
    _sub(hatch, "line", x1=0, y1=0, x2=0, y2=6, stroke=INK, stroke_width=3)
    _sub(root, "rect", width=width, height=height, fill="#ffffff")
    _sub(root, "text", title, x=left, y=18, font_size=14, font_weight="bold", fill=INK)

    # Legend: the patterns themselves, so it reads in black and white.
    legend = _sub(root, "g", class_="legend")
    _sub(legend, "rect", x=left, y=28, width=14, height=10, fill=IN_SCOPE_FILL, stroke=INK)
    _sub(legend, "text", "Dans le périmètre", x=left + 20, y=37, fill=INK)
    _sub(
        legend,
        "rect",
        x=left + 140,
        y=28,
        width=14,
        height=10,
        fill="url(#hatch-linked)",
        stroke=INK,
    )
    _sub(legend, "text", "Rattachés au problème", x=left + 160, y=37, fill=INK)
    _sub(
        legend,
        "line",
        x1=left + 310,
        y1=26,
        x2=left + 310,
        y2=40,
        stroke=INK,
        stroke_width=1.5,
        stroke_dasharray="4 3",
    )
    _sub(legend, "text", "Début d'une action", x=left + 316, y=37, fill=INK)

    top_value, step = nice_ceiling(
        max([w.in_scope for w in weeks] + [w.linked for w in weeks] + [0])
    )
    baseline = top + plot_height

    def y_of(value: float) -> float:
        return baseline - plot_height * value / top_value

    axes = _sub(root, "g", class_="axes", fill=INK)
    for tick in range(0, top_value + 1, step):
        y = round(y_of(tick), 1)
        _sub(
            axes,
            "line",
            x1=left,
            y1=y,
            x2=left + plot_width,
            y2=y,
            stroke="#bbbbbb",
            stroke_width=0.5,
        )
        _sub(axes, "text", str(tick), x=left - 6, y=y + 4, text_anchor="end")
    _sub(axes, "line", x1=left, y1=top, x2=left, y2=baseline, stroke=INK)
    _sub(axes, "line", x1=left, y1=baseline, x2=left + plot_width, y2=baseline, stroke=INK)
    _sub(axes, "text", "Semaine du", x=left - 40, y=baseline + 32)

    bars = _sub(root, "g", class_="bars")
    band = plot_width / max(len(weeks), 1)
    bar_width = max(band * 0.36, 1.0)
    # Label every week while they fit, else every other (or more).
    every = max(1, math.ceil(len(weeks) * 38 / plot_width)) if weeks else 1
    for index, week in enumerate(weeks):
        x = left + index * band
        for offset, value, kind, fill in (
            (band * 0.12, week.in_scope, "in-scope", IN_SCOPE_FILL),
            (band * 0.12 + bar_width, week.linked, "linked", "url(#hatch-linked)"),
        ):
            bar = _sub(
                bars,
                "rect",
                class_=f"bar {kind}",
                data_week=week.week.isoformat(),
                data_count=value,
                x=round(x + offset, 1),
                y=round(y_of(value), 1),
                width=round(bar_width, 1),
                height=round(baseline - y_of(value), 1),
                fill=fill,
                stroke=INK,
                stroke_width=0.8,
            )
            label = "dans le périmètre" if kind == "in-scope" else "rattachés"
            _sub(bar, "title", f"Semaine du {day_month(week.week)} : {value} {label}")
        if index % every == 0:
            _sub(
                axes,
                "text",
                day_month(week.week),
                x=round(x + band / 2, 1),
                y=baseline + 16,
                text_anchor="middle",
            )

    if weeks:
        first = weeks[0].week
        span_days = 7 * len(weeks)
        lines = _sub(root, "g", class_="markers")
        placed = [
            m for m in sorted(markers, key=lambda m: m.on) if 0 <= (m.on - first).days < span_days
        ]
        for rank, marker in enumerate(placed):
            x = round(left + plot_width * (marker.on - first).days / span_days, 1)
            group = _sub(lines, "g", class_="marker", data_date=marker.on.isoformat())
            _sub(
                group,
                "line",
                x1=x,
                y1=top - 6,
                x2=x,
                y2=baseline,
                stroke=INK,
                stroke_width=1.5,
                stroke_dasharray="4 3",
            )
            # Staggered labels so two close actions do not print over each other.
            _sub(
                group,
                "text",
                f"{day_month(marker.on)} {short_label(marker.label)}",
                x=x + 3,
                y=top - 8 + 11 * (rank % 3),
                fill=INK,
                font_size=10,
            )
    return ET.tostring(root, encoding="unicode")
