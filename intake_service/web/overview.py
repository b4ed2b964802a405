"""The national view's pages: ``/national/`` (per département, the ministry), a
département's page (per GPO; a DDSP's direction lands on its own), their CSV and PDF
exports (audited), and the hotspots (``/national/points-chauds``, and a referent's
``/gpo/<code>/points-chauds``). Aggregates only: counts, shares, medians, charts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from intake_service.access.rules.permissions import departments_of, gpo_of
from intake_service.gpo import gpos
from intake_service.intake.rules.natures import FAMILY_LABELS
from intake_service.overview import export, hotspots, national
from intake_service.overview.rules import figures
from intake_service.overview.rules import hotspots as hotspot_rules
from intake_service.platform.errors import NotFound
from intake_service.serving.context import database, request_now
from intake_service.web.auth import current_page_principal, page_requires

bp = Blueprint("overview_pages", __name__)

FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)
# The form's fields: du (from), au (to).
FIELDS = {"du": "from", "au": "to"}


def _date_arg(name: str, errors: dict[str, str]) -> dt.date | None:
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


def _period(errors: dict[str, str]) -> figures.Period:
    """The asked period; with ``errors`` under its fields, the default one is shown."""
    today = figures.paris_day(request_now())
    first, last = _date_arg("du", errors), _date_arg("au", errors)
    if errors:
        return figures.default_period(today)
    period = figures.period_of(first, last, today)
    if figures.period_errors(period):
        if period.last < period.first:
            field = "au" if last is not None else "du"
            errors[field] = "La fin de la période est avant son début."
        else:
            errors["au"] = f"Au plus {figures.MAX_DAYS} jours à la fois."
        return figures.default_period(today)
    return period


def _department_code(code: str) -> str:
    if national.check_department(code) is not None:
        abort(404)
    return code


def _overview(department: str | None, export_format: str | None) -> tuple[Any, dict[str, str]]:
    errors: dict[str, str] = {}
    period = _period(errors)
    if errors and export_format is not None:
        abort(400)
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            found = national.overview(session, principal, period, request_now(), department)
            if export_format is not None:
                national.record_export(session, principal, found, export_format, request_now())
            return found, errors
    except NotFound:
        abort(404)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


def _oui_non(value: bool | None) -> str:
    return "—" if value is None else ("oui" if value else "non")


HELPERS = {
    "pct": _pct,
    "num": _num,
    "oui_non": _oui_non,
    "family_labels": FAMILY_LABELS,
    "families": national.FAMILIES,
    "rhythm_labels": export.RHYTHM_LABELS,
    "status_labels": export.STATUS_LABELS,
}


def _render(found: national.Overview, errors: dict[str, str]) -> str:
    query: dict[str, Any] = {
        "du": found.period.first.isoformat(),
        "au": found.period.last.isoformat(),
    }
    if found.level == "national":
        csv_url = url_for("overview_pages.national_csv", **query)
        pdf_url = url_for("overview_pages.national_pdf", **query)
    else:
        query["department"] = found.department
        csv_url = url_for("overview_pages.department_csv", **query)
        pdf_url = url_for("overview_pages.department_pdf", **query)
    return render_template(
        "overview.html",
        found=found,
        errors=errors,
        du=request.args.get("du", found.period.first.isoformat()),
        au=request.args.get("au", found.period.last.isoformat()),
        charts=export.charts(found),
        csv_url=csv_url,
        pdf_url=pdf_url,
        **HELPERS,
    )


def _attachment(body: str | bytes, mimetype: str, name: str) -> Response:
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.route("/national/")
@page_requires("overview.read")
def national_page() -> Any:
    """Per département (the ministry); a département's direction lands on its own page."""
    allowed = departments_of(current_page_principal())
    if allowed:
        asked: dict[str, Any] = dict(request.args.items())
        asked["department"] = sorted(allowed)[0]
        return redirect(url_for("overview_pages.department", **asked))
    found, errors = _overview(None, None)
    return _render(found, errors)


@bp.route("/national/departements/<department>")
@page_requires("overview.read")
def department(department: str) -> Any:
    """A département's GPOs, each with its figures."""
    found, errors = _overview(_department_code(department), None)
    return _render(found, errors)


@bp.route("/national/export.csv")
@page_requires("overview.export")
def national_csv() -> Any:
    found, _ = _overview(None, "csv")
    return _attachment(export.to_csv(found), "text/csv", export.filename(found, "csv"))


@bp.route("/national/export.pdf")
@page_requires("overview.export")
def national_pdf() -> Any:
    found, _ = _overview(None, "pdf")
    return _attachment(export.to_pdf(found), "application/pdf", export.filename(found, "pdf"))


@bp.route("/national/departements/<department>/export.csv")
@page_requires("overview.export")
def department_csv(department: str) -> Any:
    found, _ = _overview(_department_code(department), "csv")
    return _attachment(export.to_csv(found), "text/csv", export.filename(found, "csv"))


@bp.route("/national/departements/<department>/export.pdf")
@page_requires("overview.export")
def department_pdf(department: str) -> Any:
    found, _ = _overview(_department_code(department), "pdf")
    return _attachment(export.to_pdf(found), "application/pdf", export.filename(found, "pdf"))


# --- hotspots -------------------------------------------------------------------------------


def _hotspots_page(gpo_code: str | None) -> Any:
    errors: dict[str, str] = {}
    period = _period(errors)
    principal = current_page_principal()
    choices: list[tuple[str, str]] = []
    try:
        with database().transaction() as session:
            if principal.role == "national":
                # The ministry may narrow the map to one GPO (the form's « gpo »).
                choices = [(g.code, g.name) for g in gpos.list_gpos(session)]
                asked = request.args.get("gpo", "").strip()
                if asked and asked not in dict(choices):
                    errors["gpo"] = "GPO inconnu : choisissez-le dans la liste."
                elif asked:
                    gpo_code = asked
            found = hotspots.hotspots(session, principal, period, request_now(), gpo_code)
    except NotFound:
        abort(404)
    highest = max((max(map(max, line.hours)) for line in found.lines), default=0)
    config = current_app.extensions["intake.config"]
    return render_template(
        "hotspots.html",
        found=found,
        errors=errors,
        du=request.args.get("du", found.period.first.isoformat()),
        au=request.args.get("au", found.period.last.isoformat()),
        highest=highest,
        level=hotspot_rules.heat_level,
        days=hotspot_rules.DAYS_FR,
        map_tiles={"url": config.map_tiles_url, "attribution": config.map_tiles_attribution},
        choices=choices,
        chosen=request.args.get("gpo", ""),
    )


@bp.route("/national/points-chauds")
@page_requires("hotspots.read")
def national_hotspots() -> Any:
    """Every incident (the ministry); a referent is sent to its GPO's page."""
    principal = current_page_principal()
    if principal.role == "gpo_referent":
        return redirect(url_for("overview_pages.gpo_hotspots", gpo_code=gpo_of(principal)))
    return _hotspots_page(None)


@bp.route("/gpo/<gpo_code>/points-chauds")
@page_requires("hotspots.read")
def gpo_hotspots(gpo_code: str) -> Any:
    """The GPO's incidents by line × hour of the week and by stop."""
    return _hotspots_page(gpo_code)
