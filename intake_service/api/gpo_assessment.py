"""``/api/v1/problems/<problem_id>/assessment`` and ``/api/v1/gpos/<gpo_code>/brief``.

The assessment (weeks, before/after, the SVG chart) is made of aggregates: referents
and partners of the problem's GPO read it. The meeting brief follows the caller's
role: the referent's version (incidents with an excerpt of their narrative: audited
reads) or the partners' (no personal data at all). CSV and PDF exports are audited.
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
from intake_service.gpo import assessment, brief, brief_export
from intake_service.gpo.rules import weekly_figures
from intake_service.platform.errors import NotFound
from intake_service.serving.context import database, request_now
from schemas.gpo_assessment import (
    AssessmentArgsSchema,
    AssessmentSchema,
    BriefArgsSchema,
    BriefSchema,
)

blp = ApiBlueprint(
    "gpo_assessment",
    __name__,
    url_prefix="/api/v1",
    description="GPO problems' assessment (weeks, before/after) and the meeting brief.",
)


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    try:
        yield
    except NotFound:
        abort(404, message="No such problem or GPO in your scope.")


def _assessment(problem_id: str, args: dict[str, Any]) -> assessment.ProblemAssessment:
    with _answers(), database().transaction() as session:
        return assessment.problem_assessment(
            session,
            current_principal(),
            problem_id,
            args.get("pivot"),
            args.get("window_days"),
            request_now(),
        )


def _brief(gpo_code: str, args: dict[str, Any], export: str | None) -> brief.Brief:
    meeting_date = args.get("date") or weekly_figures.paris_day(request_now())
    with _answers(), database().transaction() as session:
        found = brief.meeting_brief(
            session,
            current_principal(),
            gpo_code,
            meeting_date,
            request_now(),
            with_chart=export == "pdf",
        )
        if export is not None:
            brief.record_export(session, current_principal(), found, export, request_now())
        return found


def _filename(found: brief.Brief, extension: str) -> str:
    return f"reunion-{found.gpo_code}-{found.meeting_date.isoformat()}-{found.version}.{extension}"


# The endpoint keeps the name it had before the class was renamed (url_for callers).
@blp.route("/problems/<problem_id>/assessment", endpoint="Assessment")
class ProblemAssessment(MethodView):
    @require("gpo.read")
    @blp.arguments(AssessmentArgsSchema, location="query")
    @blp.response(200, AssessmentSchema)
    def get(self, args: dict[str, Any], problem_id: str) -> Any:
        """A problem's assessment

        In-scope and linked incidents per week (Mondays, Paris time), the actions'
        starts, and equal windows before and after ``pivot`` (default: the first
        action's start; ``window_days`` default: the days since the pivot, at least 7).
        """
        return assessment.assessment_document(_assessment(problem_id, args))


@blp.route("/problems/<problem_id>/assessment.svg")
class AssessmentChart(MethodView):
    @require("gpo.read")
    @blp.arguments(AssessmentArgsSchema, location="query")
    @blp.response(200, content_type="image/svg+xml", description="The chart as SVG")
    def get(self, args: dict[str, Any], problem_id: str) -> Any:
        """A problem's assessment chart (SVG)"""
        return Response(assessment.chart(_assessment(problem_id, args)), mimetype="image/svg+xml")


@blp.route("/gpos/<gpo_code>/brief")
class Brief(MethodView):
    @require("gpo.brief")
    @blp.arguments(BriefArgsSchema, location="query")
    @blp.response(200, BriefSchema)
    def get(self, args: dict[str, Any], gpo_code: str) -> Any:
        """The meeting brief

        Per open problem: new incidents since the GPO's last meeting held (for a
        GPO with none yet, the problem's last journal entry of kind ``meeting``; else
        28 days), actions due within 14 days or late, the before/after figures.
        Partners get the version without personal data.
        """
        return brief_export.brief_document(_brief(gpo_code, args, export=None))


@blp.route("/gpos/<gpo_code>/brief.csv")
class BriefCsv(MethodView):
    @require("gpo.brief")
    @blp.arguments(BriefArgsSchema, location="query")
    @blp.response(200, content_type="text/csv", description="The brief as CSV")
    def get(self, args: dict[str, Any], gpo_code: str) -> Any:
        """The meeting brief as CSV (audited export)

        The referent's: one row per new incident; the partners': one row per problem.
        """
        found = _brief(gpo_code, args, export="csv")
        return Response(
            brief_export.to_csv(found),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={_filename(found, 'csv')}"},
        )


@blp.route("/gpos/<gpo_code>/brief.pdf")
class BriefPdf(MethodView):
    @require("gpo.brief")
    @blp.arguments(BriefArgsSchema, location="query")
    @blp.response(200, content_type="application/pdf", description="The brief as PDF")
    def get(self, args: dict[str, Any], gpo_code: str) -> Any:
        """The meeting brief as PDF (audited export)"""
        found = _brief(gpo_code, args, export="pdf")
        return Response(
            brief_export.to_pdf(found),
            mimetype="application/pdf",
            headers={"Content-Disposition": f"attachment; filename={_filename(found, 'pdf')}"},
        )
