"""The export pages (issue 16): the incident export over a period (an operator's staff,
its own sheets; a command centre's operators, its service) and the monthly statistics
return of an operator's network (CSV, PDF).

Each page is a form; a valid form answers the file itself, a wrong one the page again
with the error under each field. Every export is audited before its first byte
(``reporting/incident_export.py``, ``reporting/monthly_statistics.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
)

from intake_service.reporting import incident_export, monthly_statistics
from intake_service.reporting.incident_export import UnknownOperatorCode
from intake_service.reporting.rules import periods
from intake_service.serving.context import database, request_now
from intake_service.web.auth import current_page_principal, page_requires

bp = Blueprint("reporting_pages", __name__)

FORMATS = ("csv", "pdf")


def _date_field(name: str, errors: dict[str, str]) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Date invalide : choisissez-la dans le calendrier (jj/mm/aaaa)."
        return None
    if not periods.FIRST_DATE <= value <= periods.LAST_DATE:
        errors[name] = "Date hors des limites (2000 à 2100)."
        return None
    return value


def _period(errors: dict[str, str]) -> periods.Period | None:
    first = _date_field("du", errors)
    last = _date_field("au", errors)
    if errors:
        return None
    try:
        return periods.period(first, last, now=request_now())
    except periods.PeriodRefused:
        errors["du"] = "La période commence après sa fin : choisissez un « du » avant le « au »."
        errors["au"] = "La période finit avant son début : choisissez un « au » après le « du »."
        return None


@bp.route("/exports/incidents")
@page_requires("incident.export")
def incidents() -> Any:
    """The form (période) and, once submitted and valid, the CSV itself (streamed)."""
    principal = current_page_principal()
    default = periods.period(None, None, now=request_now())
    values = {
        "du": request.args.get("du", default.first.isoformat()),
        "au": request.args.get("au", default.last.isoformat()),
    }
    if "telecharger" not in request.args:
        return render_template("reporting_incidents.html", errors={}, values=values)
    errors: dict[str, str] = {}
    period = _period(errors)
    if period is None:
        return render_template("reporting_incidents.html", errors=errors, values=values), 422
    try:
        with database().transaction() as session:
            scope = incident_export.scope_of(session, principal)
            rows = incident_export.count(session, scope, period)
            incident_export.record_export(
                session, principal, scope, period, rows, now=request_now()
            )
    except UnknownOperatorCode:
        abort(403)

    def body() -> Iterator[str]:
        with database().reading() as session:
            yield from incident_export.csv_chunks(session, scope, period)

    return Response(
        stream_with_context(body()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={incident_export.filename(scope, period)}"
        },
    )


@bp.route("/statistiques/mensuelles")
@page_requires("statistics.monthly")
def monthly() -> Any:
    """The month picker and, once submitted and valid, the return as CSV or PDF."""
    principal = current_page_principal()
    last = periods.last_complete_month(request_now())
    values = {"mois": request.args.get("mois", last.code), "latest": last.code}
    if "format" not in request.args:
        return render_template("reporting_monthly.html", errors={}, values=values)
    errors: dict[str, str] = {}
    export_format = request.args.get("format", "")
    if export_format not in FORMATS:
        errors["format"] = "Choisissez le format : CSV ou PDF."
    month = None
    try:
        month = periods.past_month(values["mois"].strip(), now=request_now())
    except periods.MonthRefused:
        try:
            periods.parse_month(values["mois"].strip())
            errors["mois"] = (
                f"Ce mois n'est pas terminé : ses chiffres changent encore. "
                f"Le dernier mois complet est {monthly_statistics.month_label(last)}."
            )
        except periods.MonthRefused:
            errors["mois"] = "Mois invalide : choisissez-le dans la liste (aaaa-mm)."
    if errors or month is None:
        return render_template("reporting_monthly.html", errors=errors, values=values), 422
    names = monthly_statistics.commune_names(current_app.extensions["intake.communes"].cache_dir)
    try:
        with database().transaction() as session:
            found = monthly_statistics.monthly_return(session, principal.scope, month, names)
            monthly_statistics.record_export(
                session, principal, found, export_format, request_now()
            )
    except UnknownOperatorCode:
        abort(403)
    if export_format == "pdf":
        content, mimetype = monthly_statistics.to_pdf(found), "application/pdf"
    else:
        content, mimetype = monthly_statistics.to_csv(found), "text/csv"
    return Response(
        content,
        mimetype=mimetype,
        headers={
            "Content-Disposition": (
                f"attachment; filename={monthly_statistics.filename(found, export_format)}"
            )
        },
    )
