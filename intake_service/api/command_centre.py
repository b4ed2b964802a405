"""The command centre's side: its queue of open incidents, and its actions on them."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import abort

from intake_service import models
from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.command_centre import actions, queue
from intake_service.deployment import metrics
from intake_service.intake import documents, queries
from intake_service.intake.rules import lifecycle
from intake_service.platform.errors import NotFound
from intake_service.serving.context import database
from schemas.incident import (
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
        except queries.UnknownService:
            abort(
                422,
                errors=[{"field": "redirect_to", "message": "No such service (or the same one)."}],
            )
        if request["status"] == "acknowledged":
            waited = (document["updated_at"] - document["received_at"]).total_seconds()
            metrics.TIME_TO_ACKNOWLEDGEMENT.labels(document["priority"]).observe(waited)
        return document
