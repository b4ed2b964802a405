"""``/api/v1/incidents``: operators submit, amend, withdraw and follow their sheets."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, NoReturn

from flask import current_app, g, jsonify, make_response, request, url_for
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from intake_service import models
from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.api.json_body import read_json_body
from intake_service.api.preconditions import abort_stale, if_match
from intake_service.deployment import metrics
from intake_service.intake import amendments, documents, queries, submission
from intake_service.intake.rules import lifecycle
from intake_service.intake.submission import IdempotencyClaim
from intake_service.platform.errors import Conflict, NotFound
from intake_service.platform.preconditions import etag
from intake_service.serving.context import (
    database,
    duplicate_settings,
    locator,
    reference_cache,
    request_now,
)
from intake_service.serving.rate_limits import rate_limited
from schemas.errors import flatten_errors
from schemas.incident import (
    IncidentListArgsSchema,
    IncidentPageSchema,
    IncidentSchema,
    VersionListSchema,
    WithdrawalSchema,
)
from schemas.sheet import SheetPatchSchema, SheetSchema

blp = ApiBlueprint(
    "incidents",
    __name__,
    url_prefix="/api/v1/incidents",
    description="Submit the common incident sheet and follow it up.",
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
_incident_schema = IncidentSchema()


def _ttl() -> dt.timedelta:
    return dt.timedelta(hours=current_app.extensions["intake.config"].idempotency_ttl_hours)


def _location(incident_id: str) -> str:
    return url_for("incidents.Incident", incident_id=incident_id)


def _incident_response(incident: models.Incident, status: int) -> Any:
    body = _incident_schema.dump(documents.incident_document(incident, current_principal()))
    return make_response(
        body, status, {"Location": _location(incident.id), "ETag": etag(incident.version)}
    )


def _tagged(incident: models.Incident) -> Any:
    """The incident's document with its ETag: the sheet's version (``docs/decisions.md``)."""
    document = documents.incident_document(incident, current_principal())
    return document, 200, {"ETag": etag(incident.version)}


def _idempotency_claim() -> IdempotencyClaim | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not key.isprintable():
        abort(
            400,
            message="The Idempotency-Key header must be 1 to 255 printable characters.",
            errors=[{"field": IDEMPOTENCY_HEADER, "message": "1 to 255 printable characters."}],
        )
    # Unreadable or unstorable: answered here as the body parser would (400, 422).
    return IdempotencyClaim(key, submission.request_hash(read_json_body()))


def _replay(claim: IdempotencyClaim) -> Any | None:
    """The first answer to this key, or None; 422 if the key came with another body."""
    try:
        with database().transaction() as session:
            incident = submission.find_replay(
                session, current_principal(), claim, now=request_now(), ttl=_ttl()
            )
            if incident is None:
                return None
            return _incident_response(incident, 201)
    except submission.IdempotencyKeyReused:
        _key_reused()
        raise  # unreachable: abort raises


def _key_reused() -> NoReturn:
    abort(
        422,
        message="This Idempotency-Key was already used with a different body.",
        errors=[{"field": IDEMPOTENCY_HEADER, "message": "Already used with another body."}],
        slug="idempotency-key-reused",
    )
    raise AssertionError("abort raises")


def replay_idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a retry with the first answer, before the body is validated again.

    A retry must get the first answer even when the sheet would no longer pass
    the time bounds (an ``in_progress`` sheet retried an hour later).
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        claim = _idempotency_claim()
        g.idempotency_claim = claim
        if claim is not None:
            replayed = _replay(claim)
            if replayed is not None:
                return replayed
        return view(*args, **kwargs)

    return wrapper


def _duplicate(incident_id: str) -> None:
    location = _location(incident_id)
    abort(
        409,
        message="A sheet with this operator_reference was already accepted.",
        headers={"Location": location},
        extra={"location": location},
        errors=[{"field": "operator_reference", "message": "Already used by an accepted sheet."}],
        slug="duplicate-operator-reference",
    )


@blp.route("")
class Incidents(MethodView):
    @rate_limited("submission")
    @require("incident.submit")
    @replay_idempotent
    @blp.arguments(SheetSchema, description="The common incident sheet, version 1.")
    @blp.response(
        201,
        IncidentSchema,
        headers={"Location": {"description": "The incident's URL.", "schema": {"type": "string"}}},
    )
    @blp.problem(409, "operator_reference already used (Location: the incident)")
    @blp.problem(422, "Invalid sheet, or Idempotency-Key reused with another body")
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": IDEMPOTENCY_HEADER,
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
                "description": "Retries with the same key and body get the first answer.",
            }
        ]
    )
    def post(self, sheet: dict[str, Any]) -> Any:
        """Submit a sheet

        Validates the sheet, computes its priority and accepts it: the incident
        and its event for the command centre are stored together before the 201.
        """
        claim: IdempotencyClaim | None = g.idempotency_claim
        try:
            with database().transaction() as session:
                accepted = submission.submit_incident(
                    session,
                    current_principal(),
                    sheet,
                    now=request_now(),
                    locator=locator(),
                    reference=reference_cache(),
                    claim=claim,
                    ttl=_ttl(),
                    duplicate_settings=duplicate_settings(),
                )
        except IntegrityError:
            # The key or the reference was used already (maybe by a concurrent request).
            try:
                with database().transaction() as session:
                    first = submission.first_submission(
                        session,
                        current_principal(),
                        claim,
                        sheet["operator_reference"],
                        now=request_now(),
                        ttl=_ttl(),
                    )
                    if first.replay is not None:
                        return _incident_response(first.replay, 201)
            except submission.IdempotencyKeyReused:
                _key_reused()
            if first.duplicate_of is None:
                raise
            _duplicate(first.duplicate_of)
        except submission.UnknownOperator:
            abort(403, message="This token's operator is not registered.")
        except ValidationError as exc:
            abort(422, errors=flatten_errors(exc.messages))
        document = accepted.document
        metrics.SUBMISSIONS.labels(document["priority"]).inc()
        # Already IncidentSchema's dump (the event's): a Response is not dumped again.
        return (
            jsonify(document),
            201,
            {"Location": _location(document["id"]), "ETag": etag(document["version"])},
        )

    @require("incident.list")
    @blp.arguments(IncidentListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, IncidentPageSchema)
    def get(
        self,
        limit: int,
        status: list[str] | None = None,
        priority: list[str] | None = None,
        received_from: dt.datetime | None = None,
        received_to: dt.datetime | None = None,
        cursor: str | None = None,
    ) -> Any:
        """List your own incidents

        Newest first. Follow ``next_cursor`` for the next page.
        """
        filters = queries.IncidentFilter(
            statuses=status or (),
            priorities=priority or (),
            received_from=received_from,
            received_to=received_to,
        )
        try:
            with database().transaction() as session:
                page, next_cursor = queries.list_incidents(
                    session, current_principal(), filters, cursor=cursor, limit=limit
                )
                items = [documents.summary_document(incident) for incident in page]
        except queries.InvalidCursor:
            abort(422, errors=[{"field": "cursor", "message": "Not a cursor of this service."}])
        except submission.UnknownOperator:
            abort(403, message="This token's operator is not registered.")
        return {"items": items, "next_cursor": next_cursor}


def _not_found() -> None:
    abort(404, message="No such incident.")


@blp.route("/<incident_id>")
class Incident(MethodView):
    @require("incident.read")
    @blp.response(200, IncidentSchema)
    def get(self, incident_id: str) -> Any:
        """Read an incident

        Its current sheet, priority, status history and warnings.
        """
        try:
            with database().transaction() as session:
                return _tagged(
                    queries.read_incident(
                        session, current_principal(), incident_id, now=request_now()
                    )
                )
        except NotFound:
            _not_found()


@blp.route("/<incident_id>/versions")
class IncidentVersions(MethodView):
    @require("incident.read")
    @blp.response(200, VersionListSchema)
    def get(self, incident_id: str) -> Any:
        """Every version of the sheet

        Version 1 is the sheet as submitted; each amendment adds one, with the
        paths it changed.
        """
        try:
            with database().transaction() as session:
                versions = queries.list_versions(
                    session, current_principal(), incident_id, now=request_now()
                )
                return {
                    "items": [
                        {
                            "version": version.version,
                            "created_at": version.created_at,
                            "author": version.author,
                            "priority": version.priority,
                            "changed_paths": version.changed_paths,
                            "sheet": version.sheet,
                        }
                        for version in versions
                    ]
                }
        except NotFound:
            _not_found()


@blp.route("/<incident_id>/amendments")
class Amendments(MethodView):
    @require("incident.amend")
    @blp.arguments(SheetPatchSchema, description="A partial sheet (RFC 7396 merge patch).")
    @blp.response(200, IncidentSchema)
    @blp.problem(409, "The incident can no longer be amended")
    @blp.problem(412, "If-Match does not name the sheet's current version")
    def post(self, patch: dict[str, Any], incident_id: str) -> Any:
        """Amend a sheet

        Adds facts: the patch is merged into the sheet, the whole is validated
        again, a new version is kept and the priority recomputed.
        """
        expected = if_match("incident")
        try:
            with database().transaction() as session:
                incident = amendments.amend_incident(
                    session,
                    current_principal(),
                    incident_id,
                    patch,
                    now=request_now(),
                    locator=locator(),
                    reference=reference_cache(),
                    duplicate_settings=duplicate_settings(),
                    expected_version=expected,
                )
                return _tagged(incident)
        except NotFound:
            _not_found()
        except Conflict as exc:
            abort_stale(exc, "incident")
        except ValidationError as exc:
            abort(422, errors=flatten_errors(exc.messages))
        except lifecycle.TransitionRefused as exc:
            abort(409, message=exc.message, slug="invalid-transition")


@blp.route("/<incident_id>/withdrawal")
class Withdrawal(MethodView):
    @require("incident.withdraw")
    @blp.arguments(WithdrawalSchema, description="Why the sheet is withdrawn (optional).")
    @blp.response(200, IncidentSchema)
    @blp.problem(409, "Already acknowledged by the command centre")
    @blp.problem(412, "If-Match does not name the sheet's current version")
    def post(self, body: dict[str, Any], incident_id: str) -> Any:
        """Withdraw a sheet sent by mistake

        Allowed until the command centre acknowledges it; afterwards, amend it.
        """
        expected = if_match("incident")
        try:
            with database().transaction() as session:
                incident = amendments.withdraw_incident(
                    session,
                    current_principal(),
                    incident_id,
                    body.get("reason"),
                    now=request_now(),
                    expected_version=expected,
                )
                return _tagged(incident)
        except NotFound:
            _not_found()
        except Conflict as exc:
            abort_stale(exc, "incident")
        except lifecycle.TransitionRefused as exc:
            abort(409, message=exc.message, slug="invalid-transition")
