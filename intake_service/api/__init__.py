"""The HTTP API: flask-smorest blueprints, one error body, the OpenAPI document."""

from __future__ import annotations

import traceback
from typing import Any

from flask import Flask, Response, current_app, request
from flask_smorest import Api
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from intake_service.api import audit, command_centre, docs, health, incidents, webhooks
from intake_service.api.problem_details import (
    PROBLEM_MIMETYPE,
    from_http_exception,
    problem_response,
)
from intake_service.intake.submission import UnknownOperator
from intake_service.serving.boundary import request_text_fields
from schemas.problem_details import ProblemSchema
from schemas.text import UNSTORABLE_MESSAGE, is_storable

JSON_MIMETYPES = ("application/json", "application/merge-patch+json")
# The only bodies that are not JSON: a file upload.
MULTIPART_ENDPOINTS = frozenset({"attachments.Attachments"})


class ProblemApi(Api):
    """flask-smorest's Api, answering every error as ``application/problem+json``."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # The error responses flask-smorest documents are ours: problem+json.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_MIMETYPE
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE

    def handle_http_exception(self, error: HTTPException) -> Response:
        return _error_response(error)


def log_unhandled(app: Flask, error: Exception) -> None:
    """Log an unexpected error with its traceback; a database error without its message,
    which quotes the values PostgreSQL refused (``invalid input … "Agent Fictif"``) and
    its DETAIL lines (``Key (email)=(…)``): the type, the SQLSTATE and the statement."""
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or "?"
        frames = "".join(traceback.format_tb(error.__traceback__))
        app.logger.error(
            "unhandled database error on %s %s: %s (SQLSTATE %s) in %s\n%s",
            request.method,
            request.path,
            type(error.orig).__name__,
            sqlstate,
            " ".join(str(error.statement or "").split())[:500],
            frames,
        )
        return
    app.logger.exception("unhandled error on %s %s", request.method, request.path)


def _error_response(error: HTTPException) -> Response:
    """A problem for the API; the pages register their own HTML rendering."""
    render_page = current_app.extensions.get("intake.page_errors")
    if render_page is not None and not request.path.startswith(
        ("/api/", "/healthz", "/readyz", "/metrics")
    ):
        response: Response = render_page(error)
        return response
    return from_http_exception(error)


def _require_json_body() -> Response | None:
    """415 for a body that is not JSON, before anything tries to read it."""
    # An empty body is fine where the body is optional (a withdrawal without reason).
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if request.method in ("POST", "PUT", "PATCH") and request.path.startswith("/api/") and has_body:
        mimetype = request.mimetype
        if request.endpoint in MULTIPART_ENDPOINTS:
            if mimetype == "multipart/form-data":
                return None
            return problem_response(415, f"Send multipart/form-data, not {mimetype or 'nothing'}.")
        if mimetype not in JSON_MIMETYPES:
            return problem_response(
                415, f"Send JSON (Content-Type: application/json), not {mimetype or 'nothing'}."
            )
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            return problem_response(415, f"Send JSON in UTF-8, not {charset}.")
    return None


def _refuse_unstorable_address() -> Response | None:
    """A NUL or a lone surrogate in the path's variables (404: no record has such an id)
    or the query string (422), named, before any query sees them (``schemas/text.py``)."""
    if not request.path.startswith("/api/"):
        return None
    fields = request_text_fields()
    refused = [name for name, value in fields if not is_storable(value)]
    in_path = [name for name in refused if name.startswith("path.")]
    if in_path:
        return problem_response(
            404,
            "No such resource: the address has text no identifier holds.",
            errors=[{"field": name, "message": UNSTORABLE_MESSAGE} for name in in_path],
        )
    if refused:
        return problem_response(
            422,
            "The address has text that cannot be stored; each part is listed.",
            errors=[{"field": name, "message": UNSTORABLE_MESSAGE} for name in refused],
        )
    return None


def init_api(app: Flask) -> None:
    app.config.update(
        API_TITLE="GPO transports — incident intake",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {
                "description": "The common incident sheet of the GPO transports: operators submit "
                "it, the command centre of the competent police service receives it. "
                "Errors are application/problem+json.",
            },
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearerAuth": []}],
        },
    )
    api = ProblemApi(app)
    blueprints = [health.blp, incidents.blp, command_centre.blp, webhooks.blp, audit.blp]
    # Priority complaint appointments: slots, bookings, offers.
    from intake_service.api import appointments

    blueprints.append(appointments.blp)
    # GPO problems.
    from intake_service.api import gpo

    blueprints.append(gpo.blp)
    # Links between incidents and GPO problems, emerging problems.
    from intake_service.api import gpo_links

    blueprints.append(gpo_links.blp)
    # Assessment of GPO problems and the meeting brief.
    from intake_service.api import gpo_assessment

    blueprints.append(gpo_assessment.blp)
    # Appointment measures.
    from intake_service.api import appointment_measures

    blueprints.append(appointment_measures.blp)
    # The direct line: the incident's conversation.
    from intake_service.api import direct_line

    blueprints.append(direct_line.blp)
    # The direct line: files on the incident.
    from intake_service.api import attachments

    blueprints.append(attachments.blp)
    # The direct line's directory: entities, referents, functional mailboxes.
    from intake_service.api import directory

    blueprints.append(directory.blp)
    # The direct line: CCTV requisitions before the erase deadline.
    from intake_service.api import cctv

    blueprints.append(cctv.blp)
    # Exports (issue 16): incidents over a period, the monthly statistics return.
    from intake_service.api import reporting

    blueprints.append(reporting.blp)

    # GPO meetings: plan, agenda, attendance, decisions, minutes, collegial evaluation.
    from intake_service.api import gpo_meetings

    blueprints.append(gpo_meetings.blp)

    # Above one GPO (issue 16): the national and départemental view, the hotspots.
    from intake_service.api import overview

    blueprints.append(overview.blp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    app.extensions["intake.api_blueprints"] = [*blueprints, docs.bp]
    app.before_request(_refuse_unstorable_address)
    app.before_request(_require_json_body)

    @app.errorhandler(UnknownOperator)
    def operator_not_registered(_error: UnknownOperator) -> Response:
        return problem_response(403, "This token's operator is not registered.")

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Response:
        app.logger.warning("database unavailable: %s", type(error.orig).__name__)
        return problem_response(
            503, "The database is unavailable; retry later.", headers={"Retry-After": "5"}
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return from_http_exception(error)
        log_unhandled(app, error)
        return _error_response(InternalServerError())
