"""``/api/v1/gpos/<gpo_code>/meetings``: a GPO's meetings.

The referent (``gpo_referent``) plans them (the next date proposed from the GPO's
rhythm), sends the agenda, records them held (attendance, decisions, minutes),
skipped or cancelled; the partners (``gpo_partner``) read them and their minutes
(their version: no personal data) and, present at a held meeting, give their view of
a problem's assessment. A meeting or GPO of another GPO answers 404.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, url_for
from flask.views import MethodView
from flask_smorest import abort

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.gpo import meetings, meetings_export, problems
from intake_service.gpo.brief import PartnerIncident, ReferentIncident
from intake_service.platform.errors import Conflict, Forbidden, NotFound
from intake_service.serving.context import database, request_now
from schemas.gpo_meetings import (
    AgendaSentSchema,
    MeetingCloseSchema,
    MeetingDecisionOutSchema,
    MeetingDecisionSchema,
    MeetingEvaluationOutSchema,
    MeetingEvaluationSchema,
    MeetingHoldSchema,
    MeetingListSchema,
    MeetingPlanSchema,
    MeetingProposalSchema,
    MeetingSchema,
    MinutesSchema,
)

blp = ApiBlueprint(
    "gpo_meetings",
    __name__,
    url_prefix="/api/v1",
    description="GPO meetings: plan, agenda, attendance, decisions, minutes, collegial evaluation.",
)
BASE = "/gpos/<gpo_code>/meetings"
ITEM = BASE + "/<meeting_id>"


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """The use cases' refusals as problems (the transaction inside has rolled back)."""
    try:
        yield
    except NotFound:
        abort(404, message="No such meeting or GPO in your scope.")
    except Forbidden:
        abort(
            403,
            message="Only the GPO's referent, or a partner present at the meeting, may do this.",
        )
    except Conflict as exc:
        abort(
            409,
            message=str(exc),
            slug="version-conflict",
            errors=[{"field": "version", "message": str(exc)}],
            extra={"current_version": exc.current_version},
        )
    except meetings.MeetingRefused as exc:
        abort(
            409,
            message=exc.message,
            slug="meeting-status",
            errors=[{"field": exc.field, "message": exc.message}],
        )
    except problems.InvalidInput as exc:
        abort(422, errors=exc.errors)


def _public_url() -> str:
    return str(current_app.extensions["intake.config"].public_url)


def _document(session: Any, meeting: Any) -> dict[str, Any]:
    """The meeting in the caller's version (a partner's with the texts masked)."""
    return meetings.meeting_view(session, current_principal(), meeting, request_now())


@blp.route(BASE)
class Meetings(MethodView):
    @require("gpo.meeting.read")
    @blp.response(200, MeetingListSchema)
    def get(self, gpo_code: str) -> Any:
        """The GPO's meetings, the latest first"""
        with _answers(), database().transaction() as session:
            found = meetings.list_meetings(session, current_principal(), gpo_code)
            return {"items": [_document(session, meeting) for meeting in found]}

    @require("gpo.meeting.manage")
    @blp.arguments(MeetingPlanSchema)
    @blp.response(201, MeetingSchema)
    @blp.problem(422, "Invalid meeting (a date in the past, a partner not of the GPO)")
    def post(self, body: dict[str, Any], gpo_code: str) -> Any:
        """Plan a meeting

        Invites the GPO's partners (all, or ``invited``) and generates the agenda from
        the meeting brief: problems with new incidents, actions late or due,
        assessments due (titles and counts, no personal data).
        """
        with _answers(), database().transaction() as session:
            meeting = meetings.plan_meeting(
                session, current_principal(), gpo_code, body, request_now()
            )
            location = url_for("gpo_meetings.Meeting", gpo_code=gpo_code, meeting_id=meeting.id)
            return _document(session, meeting), 201, {"Location": location}


@blp.route(BASE + "/proposal")
class Proposal(MethodView):
    @require("gpo.meeting.manage")
    @blp.response(200, MeetingProposalSchema)
    def get(self, gpo_code: str) -> Any:
        """The next meeting proposed

        From the GPO's rhythm (fortnightly: 14 days on; monthly: the same weekday of
        the month; dates: none) and its last meeting held, at the same time and place.
        """
        with _answers(), database().transaction() as session:
            proposal = meetings.propose_next(session, current_principal(), gpo_code, request_now())
            return {
                "rhythm": proposal.rhythm,
                "last_held_at": proposal.last_held_at,
                "planned_at": proposal.planned_at,
                "place": proposal.place,
            }


@blp.route(ITEM)
class Meeting(MethodView):
    @require("gpo.meeting.read")
    @blp.response(200, MeetingSchema)
    def get(self, gpo_code: str, meeting_id: str) -> Any:
        """A meeting: agenda, attendance, decisions, views"""
        with _answers(), database().transaction() as session:
            meeting = meetings.get_meeting(session, current_principal(), gpo_code, meeting_id)
            return _document(session, meeting)


@blp.route(ITEM + "/agenda")
class Agenda(MethodView):
    @require("gpo.meeting.manage")
    @blp.response(200, MeetingSchema)
    @blp.problem(409, "The meeting is no longer planned")
    def post(self, gpo_code: str, meeting_id: str) -> Any:
        """Generate the agenda again from today's brief"""
        with _answers(), database().transaction() as session:
            meeting = meetings.regenerate_agenda(
                session, current_principal(), gpo_code, meeting_id, request_now()
            )
            return _document(session, meeting)


@blp.route(ITEM + "/agenda/send")
class AgendaSend(MethodView):
    @require("gpo.meeting.manage")
    @blp.response(200, AgendaSentSchema)
    @blp.problem(409, "The meeting is no longer planned")
    def post(self, gpo_code: str, meeting_id: str) -> Any:
        """Email the agenda to the partners invited

        To each partner's functional mailbox in the directory, else its accounts'
        emails; sent by the mailer with its retries. ``unreachable``: partners with
        neither (their email is kept as failed).
        """
        with _answers(), database().transaction() as session:
            sent = meetings.send_agenda(
                session, current_principal(), gpo_code, meeting_id, request_now(), _public_url()
            )
            meeting = meetings.get_meeting(session, current_principal(), gpo_code, meeting_id)
            return {
                "meeting": _document(session, meeting),
                "reached": sent.reached,
                "unreachable": sent.unreachable,
            }


@blp.route(ITEM + "/hold")
class Hold(MethodView):
    @require("gpo.meeting.manage")
    @blp.arguments(MeetingHoldSchema)
    @blp.response(200, MeetingSchema)
    @blp.problem(409, "The meeting is not planned any more, or a stale version")
    @blp.problem(422, "Invalid attendance or decision; each error names its field")
    def post(self, body: dict[str, Any], gpo_code: str, meeting_id: str) -> Any:
        """Record the meeting held

        The partners ``present``, the ``minutes`` and the ``decisions``: each applied in
        the same transaction (an action created or changed, a problem moved); one
        refused decision refuses them all.
        """
        with _answers(), database().transaction() as session:
            meeting = meetings.hold_meeting(
                session, current_principal(), gpo_code, meeting_id, body, request_now()
            )
            return _document(session, meeting)


@blp.route(ITEM + "/decisions")
class Decisions(MethodView):
    @require("gpo.meeting.manage")
    @blp.arguments(MeetingDecisionSchema)
    @blp.response(201, MeetingDecisionOutSchema)
    @blp.problem(409, "The meeting is not held")
    @blp.problem(422, "Invalid decision; each error names its field")
    def post(self, body: dict[str, Any], gpo_code: str, meeting_id: str) -> Any:
        """Record one more decision of a held meeting"""
        with _answers(), database().transaction() as session:
            decision = meetings.add_decision(
                session, current_principal(), gpo_code, meeting_id, body, request_now()
            )
            meeting = meetings.get_meeting(session, current_principal(), gpo_code, meeting_id)
            document = _document(session, meeting)
            return next(d for d in document["decisions"] if d["id"] == decision.id)


@blp.route(ITEM + "/close")
class Close(MethodView):
    @require("gpo.meeting.manage")
    @blp.arguments(MeetingCloseSchema)
    @blp.response(200, MeetingSchema)
    @blp.problem(409, "The meeting is not planned any more")
    def post(self, body: dict[str, Any], gpo_code: str, meeting_id: str) -> Any:
        """Mark a planned meeting skipped (it did not take place) or cancelled"""
        with _answers(), database().transaction() as session:
            meeting = meetings.close_meeting(
                session, current_principal(), gpo_code, meeting_id, body["status"], request_now()
            )
            return _document(session, meeting)


@blp.route(ITEM + "/evaluations")
class Evaluations(MethodView):
    @require("gpo.evaluate")
    @blp.arguments(MeetingEvaluationSchema)
    @blp.response(201, MeetingEvaluationOutSchema)
    @blp.problem(403, "Only a partner present at the meeting gives its view")
    @blp.problem(409, "The meeting is not held")
    def post(self, body: dict[str, Any], gpo_code: str, meeting_id: str) -> Any:
        """Give a partner's view of a problem's assessment

        ``resolved``, ``improved`` or ``not_resolved`` with a comment; again, and the
        view is replaced. The referent's state change of the problem shows the views.
        """
        with _answers(), database().transaction() as session:
            evaluation = meetings.record_evaluation(
                session, current_principal(), gpo_code, meeting_id, body, request_now()
            )
            title = problems.get_problem(session, current_principal(), evaluation.problem_id).title
            return meetings.evaluation_document(evaluation, {evaluation.problem_id: title})


def _minutes(gpo_code: str, meeting_id: str, export: str | None) -> meetings.Minutes:
    with _answers(), database().transaction() as session:
        found = meetings.minutes_of(
            session,
            current_principal(),
            gpo_code,
            meeting_id,
            request_now(),
            with_chart=False,
        )
        if export is not None:
            meetings.record_minutes_export(
                session, current_principal(), found, export, request_now()
            )
        return found


def _filename(found: meetings.Minutes, extension: str) -> str:
    day = meetings_export.paris(found.meeting["held_at"], "%Y-%m-%d")
    return f"compte-rendu-{found.meeting['gpo_code']}-{day}-{found.version}.{extension}"


def _incident_lines(found: meetings.Minutes) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for problem in found.brief.problems:
        for line in problem.incidents:
            if isinstance(line, PartnerIncident):
                lines.append(
                    {
                        "problem_id": problem.problem_id,
                        "occurred_on": line.occurred_on,
                        "stop": line.stop,
                        "natures": list(line.natures),
                    }
                )
            elif isinstance(line, ReferentIncident):
                lines.append(
                    {
                        "problem_id": problem.problem_id,
                        "id": line.id,
                        "occurred_at": line.occurred_at,
                        "place": line.place,
                        "natures": list(line.natures),
                        "priority": line.priority,
                        "excerpt": line.excerpt,
                    }
                )
    return lines


@blp.route(ITEM + "/minutes")
class Minutes(MethodView):
    @require("gpo.meeting.read")
    @blp.response(200, MinutesSchema)
    @blp.problem(409, "The meeting is not held: no minutes")
    def get(self, gpo_code: str, meeting_id: str) -> Any:
        """The minutes of a held meeting

        The referent's version holds the incidents discussed with their narrative's
        excerpt (an audited read); the partners' has them at day, stop and natures, and
        the texts with whatever could name someone masked.
        """
        found = _minutes(gpo_code, meeting_id, None)
        return {
            "version": found.version,
            "meeting": found.meeting,
            "minutes": found.minutes_text,
            "incidents": _incident_lines(found),
        }


@blp.route(ITEM + "/minutes.csv")
class MinutesCsv(MethodView):
    @require("gpo.meeting.read")
    @blp.response(200, content_type="text/csv", description="The minutes as CSV")
    @blp.problem(409, "The meeting is not held: no minutes")
    def get(self, gpo_code: str, meeting_id: str) -> Any:
        """The minutes as CSV (audited export)"""
        found = _minutes(gpo_code, meeting_id, "csv")
        return Response(
            meetings_export.to_csv(found),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={_filename(found, 'csv')}"},
        )


@blp.route(ITEM + "/minutes.pdf")
class MinutesPdf(MethodView):
    @require("gpo.meeting.read")
    @blp.response(200, content_type="application/pdf", description="The minutes as PDF")
    @blp.problem(409, "The meeting is not held: no minutes")
    def get(self, gpo_code: str, meeting_id: str) -> Any:
        """The minutes as PDF (audited export)"""
        found = _minutes(gpo_code, meeting_id, "pdf")
        return Response(
            meetings_export.to_pdf(found),
            mimetype="application/pdf",
            headers={"Content-Disposition": f"attachment; filename={_filename(found, 'pdf')}"},
        )
