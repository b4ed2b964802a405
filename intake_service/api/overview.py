"""``/api/v1/overview`` (national and départemental view) and ``/api/v1/hotspots``.

The ``national`` role reads every département, a ``departement`` its own; a
département outside the caller's scope, or (for the ministry) with no GPO, is 404.
Exports (CSV, PDF) are separate paths, as the meeting brief's are, and audited.
Hotspots: a GPO referent its GPO's incidents, the national role every one.
Aggregates only, everywhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import abort

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.overview import export, hotspots, national
from intake_service.overview.rules import figures
from intake_service.platform.errors import NotFound
from intake_service.serving.context import database, request_now
from schemas.overview import HotspotArgsSchema, HotspotsSchema, OverviewSchema, PeriodArgsSchema

blp = ApiBlueprint(
    "overview",
    __name__,
    url_prefix="/api/v1",
    description="The national and départemental view of the GPOs' work, and the hotspots.",
)


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    try:
        yield
    except NotFound:
        abort(404, message="No such département or GPO in your scope.")


def period_from(args: dict[str, Any]) -> figures.Period:
    """The asked period, or 422 naming the field at fault."""
    today = figures.paris_day(request_now())
    period = figures.period_of(args.get("from_"), args.get("to"), today)
    errors = figures.period_errors(period)
    if errors:
        # Only ``from`` given, after today: the start is what is wrong.
        field = "to" if "to" in args else "from"
        abort(422, errors=[{"field": field, "message": next(iter(errors.values()))}])
    return period


def _department(code: str) -> str:
    problem = national.check_department(code)
    if problem is not None:
        abort(422, errors=[{"field": "department", "message": problem}])
    return code


def _overview(args: dict[str, Any], department: str | None, export_format: str | None) -> Any:
    period = period_from(args)
    with _answers(), database().transaction() as session:
        found = national.overview(session, current_principal(), period, request_now(), department)
        if export_format is not None:
            national.record_export(
                session, current_principal(), found, export_format, request_now()
            )
        return found


def _csv(found: national.Overview) -> Response:
    return Response(
        export.to_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={export.filename(found, 'csv')}"},
    )


def _pdf(found: national.Overview) -> Response:
    return Response(
        export.to_pdf(found),
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename={export.filename(found, 'pdf')}"},
    )


@blp.route("/overview")
class Overview(MethodView):
    @require("overview.read")
    @blp.arguments(PeriodArgsSchema, location="query")
    @blp.response(200, OverviewSchema)
    @blp.problem(422, "Invalid period; each error names its field (from, to)")
    def get(self, args: dict[str, Any]) -> Any:
        """The GPOs' work over a period, per département (national) or per GPO (your département)

        Problems identified, in progress, resolved / improved / not resolved /
        abandoned and the median days to resolve; meetings held and rhythm kept;
        incidents by nature family and month, staff victims, share of P1/P2;
        complaint appointments; GPOs active versus declared. Default period: the 12
        calendar months up to today (Paris days, ``to`` included).
        """
        return national.overview_document(_overview(args, None, None))


@blp.route("/overview/export.csv")
class OverviewCsv(MethodView):
    @require("overview.export")
    @blp.arguments(PeriodArgsSchema, location="query")
    @blp.response(200, content_type="text/csv", description="The figures as CSV")
    @blp.problem(422, "Invalid period; each error names its field (from, to)")
    def get(self, args: dict[str, Any]) -> Any:
        """The overview as CSV (audited export): one row per département or GPO, then the total"""
        return _csv(_overview(args, None, "csv"))


@blp.route("/overview/export.pdf")
class OverviewPdf(MethodView):
    @require("overview.export")
    @blp.arguments(PeriodArgsSchema, location="query")
    @blp.response(200, content_type="application/pdf", description="The figures as PDF")
    @blp.problem(422, "Invalid period; each error names its field (from, to)")
    def get(self, args: dict[str, Any]) -> Any:
        """The overview as PDF, with its charts (audited export)"""
        return _pdf(_overview(args, None, "pdf"))


@blp.route("/overview/departements/<department>")
class Department(MethodView):
    @require("overview.read")
    @blp.arguments(PeriodArgsSchema, location="query")
    @blp.response(200, OverviewSchema)
    @blp.problem(404, "No such département in your scope (or no GPO in it)")
    @blp.problem(422, "Invalid département code or period; each error names its field")
    def get(self, args: dict[str, Any], department: str) -> Any:
        """One département's GPOs, each with its figures, and the département's total"""
        return national.overview_document(_overview(args, _department(department), None))


@blp.route("/overview/departements/<department>/export.csv")
class DepartmentCsv(MethodView):
    @require("overview.export")
    @blp.arguments(PeriodArgsSchema, location="query")
    @blp.response(200, content_type="text/csv", description="The figures as CSV")
    @blp.problem(404, "No such département in your scope (or no GPO in it)")
    @blp.problem(422, "Invalid département code or period; each error names its field")
    def get(self, args: dict[str, Any], department: str) -> Any:
        """One département's figures as CSV (audited export): one row per GPO, then the total"""
        return _csv(_overview(args, _department(department), "csv"))


@blp.route("/overview/departements/<department>/export.pdf")
class DepartmentPdf(MethodView):
    @require("overview.export")
    @blp.arguments(PeriodArgsSchema, location="query")
    @blp.response(200, content_type="application/pdf", description="The figures as PDF")
    @blp.problem(404, "No such département in your scope (or no GPO in it)")
    @blp.problem(422, "Invalid département code or period; each error names its field")
    def get(self, args: dict[str, Any], department: str) -> Any:
        """One département's figures as PDF, with its charts (audited export)"""
        return _pdf(_overview(args, _department(department), "pdf"))


@blp.route("/hotspots")
class Hotspots(MethodView):
    @require("hotspots.read")
    @blp.arguments(HotspotArgsSchema, location="query")
    @blp.response(200, HotspotsSchema)
    @blp.problem(404, "No such GPO in your scope")
    @blp.problem(422, "Invalid period or GPO; each error names its field")
    def get(self, args: dict[str, Any]) -> Any:
        """Incidents by line × hour of the week (top lines) and by stop, open problems marked

        A GPO referent: its GPO's incidents; the national role: every incident, or
        one GPO's (``gpo``). Hours are Paris time, Monday first.
        """
        period = period_from(args)
        with _answers(), database().transaction() as session:
            found = hotspots.hotspots(
                session, current_principal(), period, request_now(), args.get("gpo")
            )
            return hotspots.hotspots_document(found)
