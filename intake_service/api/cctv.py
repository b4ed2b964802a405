"""``/api/v1/.../cctv-requisitions``: the police side asks the operator for an
incident's CCTV footage before it is erased; the operator answers step by step.

Scoped as the incident is (a station officer: its station's service); outside the
caller's scope, 404. A requisition's ``ETag`` is its version: a step sends it back as
``If-Match`` (RFC 9110 §13.1.1), without it 428, stale 412.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.api.preconditions import abort_stale, if_match
from intake_service.direct_line import cctv, cctv_measures, messages
from intake_service.platform.errors import Conflict, Forbidden, NotFound, Refused, VersionRequired
from intake_service.serving.context import database, locator, reference_cache, request_now
from schemas.cctv import (
    CctvMeasuresSchema,
    CctvRequisitionListSchema,
    CctvRequisitionSchema,
    MeasuresQuerySchema,
    NewRequisitionSchema,
    RequisitionStepSchema,
)
from schemas.errors import flatten_errors

blp = ApiBlueprint(
    "cctv",
    __name__,
    url_prefix="/api/v1",
    description="CCTV requisitions: the footage of an incident, asked before it is erased.",
)


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """The use cases' refusals as problems (the transaction inside has rolled back)."""
    try:
        yield
    except NotFound:
        abort(404, message="No such requisition or incident in your scope.")
    except Forbidden as exc:
        abort(403, message=str(exc))
    except (Conflict, VersionRequired) as exc:
        abort_stale(exc, "requisition")
    except Refused as exc:
        abort(
            409 if exc.conflict else 422,
            message=exc.message,
            slug="invalid-transition" if exc.conflict else None,
            errors=[{"field": exc.field or "requisition", "message": exc.message}],
        )
    except ValidationError as exc:
        abort(422, errors=flatten_errors(exc.messages))


def _line() -> messages.Line:
    return messages.Line(
        locator=locator(),
        reference=reference_cache(),
        public_url=current_app.extensions["intake.config"].public_url,
    )


def _answer(document: dict[str, Any], status: int = 200) -> Any:
    headers = {"ETag": f'"{document["version"]}"'}
    if status == 201:
        headers["Location"] = url_for("cctv.Requisition", requisition_id=document["id"])
    return document, status, headers


@blp.route("/incidents/<incident_id>/cctv-requisitions")
class IncidentRequisitions(MethodView):
    @require("cctv.read")
    @blp.response(200, CctvRequisitionListSchema)
    @blp.problem(404, "No such incident in your scope.")
    def get(self, incident_id: str) -> Any:
        """The incident's CCTV requisitions

        Oldest first, each with its erase deadline and the seconds left. Audited.
        """
        now = request_now()
        with _answers(), database().transaction() as session:
            found = cctv.list_requisitions(session, current_principal(), incident_id, now=now)
            return {"items": [cctv.requisition_document(r, now) for r in found]}

    @require("cctv.request")
    @blp.arguments(NewRequisitionSchema)
    @blp.response(201, CctvRequisitionSchema)
    @blp.problem(404, "No such incident in your scope.")
    @blp.problem(409, "The sheet says no video exists, or it is already erased")
    @blp.problem(422, "Invalid request (each field named)")
    def post(self, body: dict[str, Any], incident_id: str) -> Any:
        """Request the incident's CCTV footage

        The CIC of the incident's service, or a station officer of that service. The
        erase deadline is the sheet's ``video.erased_after`` now. The operator is told at
        once: a message in the conversation, ``incident.cctv_requisition_changed`` on
        the feed and its webhook, a notice to its functional mailbox.
        """
        now = request_now()
        with _answers(), database().transaction() as session:
            requisition = cctv.request_footage(
                session, current_principal(), incident_id, body["what"], now=now, line=_line()
            )
            document = cctv.requisition_document(requisition, now)
        return _answer(document, 201)


@blp.route("/cctv-requisitions/<requisition_id>")
class Requisition(MethodView):
    @require("cctv.read")
    @blp.response(200, CctvRequisitionSchema)
    @blp.problem(404, "No such requisition in your scope.")
    def get(self, requisition_id: str) -> Any:
        """One CCTV requisition

        Its ``ETag`` is its version: send it back as ``If-Match`` to make a step. Audited.
        """
        now = request_now()
        with _answers(), database().transaction() as session:
            found = cctv.get_requisition(session, current_principal(), requisition_id, now=now)
            return _answer(cctv.requisition_document(found, now))


@blp.route("/cctv-requisitions/<requisition_id>/transitions")
class Transitions(MethodView):
    @require("cctv.update")
    @blp.arguments(RequisitionStepSchema)
    @blp.response(200, CctvRequisitionSchema)
    @blp.problem(404, "No such requisition in your scope.")
    @blp.problem(409, "The requisition's state does not allow this step")
    @blp.problem(412, "If-Match does not name the current version")
    @blp.problem(422, "A field the step needs is missing (named)")
    @blp.problem(428, "If-Match is required")
    def post(self, body: dict[str, Any], requisition_id: str) -> Any:
        """Answer a CCTV requisition, one step

        The operator: ``extracted`` (with ``extraction_reference``), ``handed_over``
        (``handed_over_to``, ``handed_over_at``), ``refused`` or ``erased`` (``reason``).
        Published as ``incident.cctv_requisition_changed``.
        """
        expected = if_match("requisition")
        now = request_now()
        with _answers(), database().transaction() as session:
            requisition = cctv.step(
                session,
                current_principal(),
                requisition_id,
                body,
                expected_version=expected,
                now=now,
            )
            document = cctv.requisition_document(requisition, now)
        return _answer(document)


@blp.route("/cctv-requisitions/measures")
class Measures(MethodView):
    @require("cctv.measures")
    @blp.arguments(MeasuresQuerySchema, location="query")
    @blp.response(200, CctvMeasuresSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Share of CCTV requisitions extracted before the erase deadline

        Per operator and per competent service, of the requisitions requested in the
        period (default: the last 90 days); each caller counts its own scope.
        """
        with _answers(), database().transaction() as session:
            return cctv_measures.measure(
                session,
                current_principal(),
                since=query.get("since"),
                until=query.get("until"),
                now=request_now(),
            )
