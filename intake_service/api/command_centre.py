"""The command centre's side: its queue of open incidents, and its actions on them."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import abort

from intake_service import models
from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.command_centre import actions, grouping, holding, queue
from intake_service.deployment import metrics
from intake_service.intake import documents, queries
from intake_service.intake.rules import lifecycle
from intake_service.platform.errors import NotFound, Refused
from intake_service.serving.context import database
from schemas.incident import (
    DuplicateDecisionSchema,
    DuplicatesSchema,
    HolderAnswerSchema,
    IncidentSchema,
    QueueArgsSchema,
    QueuePageSchema,
    StatusRequestSchema,
)

blp = ApiBlueprint(
    "command_centre",
    __name__,
    url_prefix="/api/v1",
    description="The command centre's queue and its actions on incidents.",
)


def queue_item(incident: models.Incident) -> dict[str, Any]:
    return {
        **documents.summary_document(incident),
        "operator": incident.operator.code,
        "escalated": incident.escalated_for is not None,
        "service_code": incident.service_code,
    }


@blp.route("/command-centre/incidents")
class Queue(MethodView):
    @require("command_centre.queue")
    @blp.arguments(QueueArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, QueuePageSchema)
    def get(
        self, limit: int, status: list[str] | None = None, priority: list[str] | None = None
    ) -> Any:
        """The service's open incidents

        Ordered by priority, then weapon, injury, staff victim and suspects
        present, then the most recent.
        """
        with database().transaction() as session:
            found = queue.command_centre_queue(
                session,
                current_principal(),
                statuses=status or (),
                priorities=priority or (),
                limit=limit,
            )
            return {"items": [queue_item(incident) for incident in found]}


@blp.route("/incidents/<incident_id>/status")
class Status(MethodView):
    @require("incident.change_status")
    @blp.arguments(StatusRequestSchema)
    @blp.response(200, IncidentSchema)
    @blp.problem(409, "The incident's status does not allow this change")
    def post(self, request: dict[str, Any], incident_id: str) -> Any:
        """Acknowledge, dispatch, close or reject an incident

        ``closed`` needs an ``outcome``; ``rejected`` a ``cause``, and
        ``redirect_to`` re-routes the incident to the competent service.
        """
        try:
            with database().transaction() as session:
                incident = actions.change_status(
                    session, current_principal(), incident_id, request, now=g.now
                )
                document = documents.incident_document(incident, current_principal())
        except NotFound:
            abort(404, message="No such incident.")
        except lifecycle.TransitionRefused as exc:
            abort(409, message=exc.message, slug="invalid-transition")
        except holding.HeldByAnother as exc:
            _held_by_another(exc)
        except queries.UnknownService:
            abort(
                422,
                errors=[{"field": "redirect_to", "message": "No such service (or the same one)."}],
            )
        waited = (document["updated_at"] - document["received_at"]).total_seconds()
        metrics.observe_status_change(document["priority"], request["status"], waited)
        return document


def _held_by_another(exc: holding.HeldByAnother) -> None:
    abort(
        409,
        message=exc.message,
        errors=[{"field": "held_by", "message": exc.message}],
        slug="held-by-another",
        extra={"holder": {"person": holding.person(exc.holder), "at": exc.held_at.isoformat()}},
    )


def _holder_answer(incident: models.Incident) -> dict[str, Any]:
    return {"incident_id": incident.id, "holder": holding.holder_document(incident)}


@blp.route("/incidents/<incident_id>/take")
class Take(MethodView):
    @require("incident.take")
    @blp.response(200, HolderAnswerSchema)
    @blp.problem(404, "No such incident in your scope.")
    @blp.problem(409, "Another operator of the service holds it, or it is no longer open")
    def post(self, incident_id: str) -> Any:
        """Take the incident ("je prends")

        Every console of the service sees who holds it at once (``incident.taken`` on
        the feed); another operator's status changes are refused (409
        ``held-by-another``) until the holder releases it or a supervisor reassigns it.
        Taking one's own incident again changes nothing.
        """
        try:
            with database().transaction() as session:
                incident = holding.take(session, current_principal(), incident_id, now=g.now)
                taken_now = incident.held_at == g.now
                answer = _holder_answer(incident)
                waited = (g.now - incident.received_at).total_seconds()
                priority = incident.priority
        except NotFound:
            abort(404, message="No such incident.")
        except holding.HeldByAnother as exc:
            _held_by_another(exc)
        except Refused as exc:
            abort(409, message=exc.message, errors=[{"field": exc.field, "message": exc.message}])
        if taken_now:
            metrics.observe_status_change(priority, "taken", waited)
        return answer


@blp.route("/incidents/<incident_id>/release")
class Release(MethodView):
    @require("incident.take")
    @blp.response(200, HolderAnswerSchema)
    @blp.problem(404, "No such incident in your scope.")
    @blp.problem(409, "Another operator holds it (a supervisor may release it)")
    def post(self, incident_id: str) -> Any:
        """Release the incident one holds

        A supervisor (a person signed in to the console) releases or reassigns anyone's.
        """
        try:
            with database().transaction() as session:
                incident = holding.release(session, current_principal(), incident_id, now=g.now)
                return _holder_answer(incident)
        except NotFound:
            abort(404, message="No such incident.")
        except holding.HeldByAnother as exc:
            _held_by_another(exc)


@blp.route("/incidents/<incident_id>/duplicates")
class Duplicates(MethodView):
    @require("incident.group")
    @blp.response(200, DuplicatesSchema)
    @blp.problem(404, "No such incident in your scope.")
    def get(self, incident_id: str) -> Any:
        """The incident's duplicate candidates and its group

        Open incidents of the same service that may be the same event, each with its
        reasons in French (same vehicle, same line and direction, same stop, within the
        distance; the interval; the family of facts), and the group it is in (its lead:
        the highest priority, then the earliest).
        """
        try:
            with database().transaction() as session:
                return grouping.duplicates_of(session, current_principal(), incident_id)
        except NotFound:
            abort(404, message="No such incident.")


@blp.route("/incidents/<incident_id>/duplicates/<other_id>")
class DuplicateDecision(MethodView):
    @require("incident.group")
    @blp.arguments(DuplicateDecisionSchema)
    @blp.response(200, DuplicatesSchema)
    @blp.problem(404, "No such incident in your scope (either of the two).")
    @blp.problem(409, "Not open any more, or already in one group (for distinct)")
    def post(self, body: dict[str, Any], incident_id: str, other_id: str) -> Any:
        """Decide a pair: « même événement » or « distinct »

        ``same`` puts the two (and the groups they are in) in one group:
        acknowledging, dispatching, closing or rejecting the lead then applies to every
        member (``incident.grouped`` on the feed). ``distinct`` is never proposed again.
        """
        try:
            with database().transaction() as session:
                grouping.decide(
                    session,
                    current_principal(),
                    incident_id,
                    other_id,
                    body["decision"],
                    now=g.now,
                )
                return grouping.duplicates_of(session, current_principal(), incident_id)
        except NotFound:
            abort(404, message="No such incident.")
        except Refused as exc:
            _refused(exc)


@blp.route("/incidents/<incident_id>/group")
class Group(MethodView):
    @require("incident.group")
    @blp.response(200, DuplicatesSchema)
    @blp.problem(404, "No such incident in your scope.")
    @blp.problem(409, "The incident is in no group")
    def delete(self, incident_id: str) -> Any:
        """Take the incident out of its group

        Its pairs with the members become ``distinct``; a group left with one member is
        dissolved (``incident.ungrouped``).
        """
        try:
            with database().transaction() as session:
                grouping.leave(session, current_principal(), incident_id, now=g.now)
                return grouping.duplicates_of(session, current_principal(), incident_id)
        except NotFound:
            abort(404, message="No such incident.")
        except Refused as exc:
            _refused(exc)


def _refused(exc: Refused) -> None:
    abort(
        409 if exc.conflict else 422,
        message=exc.message,
        errors=[{"field": exc.field or "incident", "message": exc.message}],
    )
