"""``/api/v1/incidents/export.csv`` and ``/api/v1/statistics/monthly/<YYYY-MM>.csv|.pdf``:
the exports the field asks for (issue 16).

The incident export is an operator's own sheets or a command centre's service over a
period, streamed as CSV (never held in memory), without any identity. The monthly
statistics return is the operator's network, for a month that is over. Every export
is audited before its first byte leaves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, NoReturn

from flask import Response, current_app, stream_with_context
from flask.views import MethodView
from flask_smorest import abort

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.reporting import incident_export, monthly_statistics
from intake_service.reporting.incident_export import UnknownOperatorCode
from intake_service.reporting.rules import periods
from intake_service.serving.context import database, request_now
from schemas.reporting import IncidentExportArgsSchema

blp = ApiBlueprint(
    "reporting",
    __name__,
    url_prefix="/api/v1",
    description="Exports: incidents over a period (CSV, streamed), the monthly statistics return.",
)


# A file's body in the OpenAPI document (the view returns the Response itself).
FILE = {"type": "string", "format": "binary"}


def _unregistered() -> NoReturn:
    abort(403, message="This token's operator is not registered.")
    raise AssertionError("abort raises")


@blp.route("/incidents/export.csv")
class IncidentExport(MethodView):
    @require("incident.export")
    @blp.arguments(IncidentExportArgsSchema, location="query", as_kwargs=True)
    @blp.response(
        200,
        FILE,
        content_type="text/csv",
        description="One row per incident received in the period, oldest first (streamed).",
        headers={
            "X-Export-Rows": {
                "description": "The rows the export holds (counted as it starts).",
                "schema": {"type": "integer"},
            },
            "Content-Disposition": {
                "description": "attachment; filename=incidents-<scope>-<from>-<to>.csv",
                "schema": {"type": "string"},
            },
        },
    )
    @blp.problem(422, "A bad date, or a period that ends before it starts (from, to)")
    def get(self, date_from: dt.date | None = None, date_to: dt.date | None = None) -> Any:
        """Export incidents over a period (CSV, audited)

        An operator exports its own sheets, a command centre the incidents of its
        service, received from ``from`` to ``to`` (Paris days, both included; default
        the last 31 days). Columns: incident_id, operator_reference, operator, service,
        received_at, acknowledged_at, dispatched_at, closed_at (Paris time with
        offset), status, outcome, priority, primary_nature, natures (``|``-separated),
        mode, place, route_id, stop_id, insee_code. No name, phone, contact,
        description or narrative. The response is streamed.
        """
        principal = current_principal()
        try:
            period = periods.period(date_from, date_to, now=request_now())
        except periods.PeriodRefused as refused:
            abort(422, errors=[{"field": f, "message": m} for f, m in refused.errors.items()])
        try:
            with database().transaction() as session:
                scope = incident_export.scope_of(session, principal)
                rows = incident_export.count(session, scope, period)
                incident_export.record_export(
                    session, principal, scope, period, rows, now=request_now()
                )
        except UnknownOperatorCode:
            _unregistered()

        def body() -> Iterator[str]:
            with database().reading() as session:
                yield from incident_export.csv_chunks(session, scope, period)

        return Response(
            stream_with_context(body()),
            mimetype="text/csv",
            headers={
                "Content-Disposition": (
                    f"attachment; filename={incident_export.filename(scope, period)}"
                ),
                "X-Export-Rows": str(rows),
            },
        )


def _month_return(month: str, export_format: str) -> monthly_statistics.MonthlyReturn:
    try:
        found_month = periods.past_month(month, now=request_now())
    except periods.MonthRefused as refused:
        abort(422, errors=[{"field": "month", "message": refused.message}])
    principal = current_principal()
    names = monthly_statistics.commune_names(current_app.extensions["intake.communes"].cache_dir)
    try:
        with database().transaction() as session:
            found = monthly_statistics.monthly_return(session, principal.scope, found_month, names)
            monthly_statistics.record_export(
                session, principal, found, export_format, request_now()
            )
            return found
    except UnknownOperatorCode:
        _unregistered()


@blp.route("/statistics/monthly/<month>.csv")
class MonthlyStatisticsCsv(MethodView):
    @require("statistics.monthly")
    @blp.response(200, FILE, content_type="text/csv", description="The monthly return as CSV")
    @blp.problem(422, "Not a month (YYYY-MM), or a month not over yet (month)")
    def get(self, month: str) -> Any:
        """Monthly statistics of your network (CSV, audited)

        For a month that is over (``YYYY-MM``): the sheets received in the month, as
        they stood at its end. One row for the network, one per line (``route_id``),
        one per commune (INSEE code): incidents, incidents per nature family, staff
        victims, passenger victims. The same month always gives the same bytes.
        """
        found = _month_return(month, "csv")
        return Response(
            monthly_statistics.to_csv(found),
            mimetype="text/csv",
            headers={
                "Content-Disposition": (
                    f"attachment; filename={monthly_statistics.filename(found, 'csv')}"
                )
            },
        )


@blp.route("/statistics/monthly/<month>.pdf")
class MonthlyStatisticsPdf(MethodView):
    @require("statistics.monthly")
    @blp.response(
        200, FILE, content_type="application/pdf", description="The monthly return as PDF"
    )
    @blp.problem(422, "Not a month (YYYY-MM), or a month not over yet (month)")
    def get(self, month: str) -> Any:
        """Monthly statistics of your network (PDF, audited)

        The CSV's figures on A4, dated at the month's end.
        """
        found = _month_return(month, "pdf")
        return Response(
            monthly_statistics.to_pdf(found),
            mimetype="application/pdf",
            headers={
                "Content-Disposition": (
                    f"attachment; filename={monthly_statistics.filename(found, 'pdf')}"
                )
            },
        )
