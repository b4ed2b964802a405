"""The GPO's assessment and meeting pages: a problem's chart and before/after table, the
meeting brief (printable, PDF, CSV).

The assessment is aggregates: referents and partners read it. The brief follows the
signed-in person's role: the referent's version (incidents with an excerpt: audited
reads) or the partners' (no personal data). Exports are audited (``gpo/brief.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request

from intake_service.gpo import assessment, brief, brief_export
from intake_service.gpo.rules import weekly_figures
from intake_service.platform.clock import PARIS
from intake_service.platform.errors import NotFound
from intake_service.platform.labels import (
    ACTION_STATUS_LABELS,
    NATURE_LABELS,
    PRIORITY_LABELS,
    PROBLEM_STATE_LABELS,
    SEVERITY_LABELS,
)
from intake_service.serving.context import database, request_now
from intake_service.web.auth import current_page_principal, page_requires

bp = Blueprint("gpo_evaluation", __name__)

MAX_WINDOW_DAYS = 366
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)


def _date_arg(name: str, errors: dict[str, str]) -> dt.date | None:
    """A ``YYYY-MM-DD`` query argument (the date picker's), or None with the error noted."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Date invalide : choisissez-la dans le calendrier (jj/mm/aaaa)."
        return None
    if not FIRST_DATE <= value <= LAST_DATE:
        errors[name] = "Date hors des limites (2000 à 2100)."
        return None
    return value


def _window_arg(errors: dict[str, str]) -> int | None:
    raw = request.args.get("fenetre", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WINDOW_DAYS:
        errors["fenetre"] = f"Nombre de jours entre 1 et {MAX_WINDOW_DAYS}."
        return None
    return int(raw)


def _assessment(problem_id: str, errors: dict[str, str]) -> assessment.ProblemAssessment:
    pivot = _date_arg("pivot", errors)
    window = _window_arg(errors)
    try:
        with database().transaction() as session:
            return assessment.problem_assessment(
                session, current_page_principal(), problem_id, pivot, window, request_now()
            )
    except NotFound:
        abort(404)


def _brief(gpo_code: str, export: str | None) -> brief.Brief:
    errors: dict[str, str] = {}
    meeting_date = _date_arg("date", errors) or weekly_figures.paris_day(request_now())
    if errors and export is not None:
        abort(400)
    try:
        with database().transaction() as session:
            found = brief.meeting_brief(
                session,
                current_page_principal(),
                gpo_code,
                meeting_date,
                request_now(),
                with_chart=export == "pdf",
            )
            if export is not None:
                brief.record_export(session, current_page_principal(), found, export, request_now())
            g.brief_errors = errors
            return found
    except NotFound:
        abort(404)


def _jour(day: dt.date | dt.datetime | None) -> str:
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = weekly_figures.paris_day(day)
    return day.strftime("%d/%m/%Y")


def _heure(moment: dt.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def _pct(value: float | None, unit: str = " %") -> str:
    if value is None:
        return "—"
    return f"{value:+.1f}{unit}".replace(".", ",")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %".replace(".", ",")


def _natures(natures: Any) -> str:
    return ", ".join(NATURE_LABELS.get(n, n) for n in natures)


TEMPLATE_HELPERS = {
    "jour": _jour,
    "heure": _heure,
    "pct": _pct,
    "part": _share,
    "natures_text": _natures,
    "state_labels": PROBLEM_STATE_LABELS,
    "action_labels": ACTION_STATUS_LABELS,
    "severity_labels": SEVERITY_LABELS,
    "priority_labels": PRIORITY_LABELS,
    "priorities": weekly_figures.PRIORITIES,
    "severities": weekly_figures.SEVERITIES,
}


@bp.route("/gpo/problemes/<problem_id>/evaluation")
@page_requires("gpo.read")
def evaluation(problem_id: str) -> Any:
    """The chart of the weeks and the before/after table, around a chosen date."""
    errors: dict[str, str] = {}
    result = _assessment(problem_id, errors)
    figures = (
        weekly_figures.figures_document(result.comparison)
        if result.comparison is not None
        else None
    )
    return render_template(
        "gpo_assessment.html",
        result=result,
        svg=assessment.chart(result),
        figures=figures,
        errors=errors,
        pivot=request.args.get("pivot", ""),
        fenetre=request.args.get("fenetre", ""),
        **TEMPLATE_HELPERS,
    )


@bp.route("/gpo/problemes/<problem_id>/graphique.svg")
@page_requires("gpo.read")
def chart(problem_id: str) -> Any:
    """The chart alone, as an SVG image (the brief shows it, anyone may save it)."""
    result = _assessment(problem_id, {})
    return Response(assessment.chart(result), mimetype="image/svg+xml")


@bp.route("/gpo/<gpo_code>/reunion")
@page_requires("gpo.brief")
def meeting(gpo_code: str) -> Any:
    """The meeting brief, printable (its print stylesheet lays it out on paper)."""
    found = _brief(gpo_code, export=None)
    return render_template(
        "gpo_brief.html",
        brief=found,
        partner=found.version == "partner",
        errors=g.get("brief_errors", {}),
        date_value=found.meeting_date.isoformat(),
        figures_of=weekly_figures.figures_document,
        **TEMPLATE_HELPERS,
    )


def _filename(found: brief.Brief, extension: str) -> str:
    return f"reunion-{found.gpo_code}-{found.meeting_date.isoformat()}-{found.version}.{extension}"


@bp.route("/gpo/<gpo_code>/reunion.pdf")
@page_requires("gpo.brief")
def meeting_pdf(gpo_code: str) -> Any:
    found = _brief(gpo_code, export="pdf")
    return Response(
        brief_export.to_pdf(found),
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename={_filename(found, 'pdf')}"},
    )


@bp.route("/gpo/<gpo_code>/reunion.csv")
@page_requires("gpo.brief")
def meeting_csv(gpo_code: str) -> Any:
    found = _brief(gpo_code, export="csv")
    return Response(
        brief_export.to_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={_filename(found, 'csv')}"},
    )
