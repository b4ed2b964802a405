"""``/api/v1/incidents/<id>/messages``: the direct line, both ways, inside the incident.

The command centre of the incident's service and the operator that sent it read and
post messages, requests for information (RFI) and notes; an answer may amend the sheet
in the same step. Scoped as the incident is: outside the caller's scope, 404.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import current_app, make_response, url_for
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.direct_line import messages
from intake_service.intake.rules import lifecycle
from intake_service.platform.errors import Forbidden, NotFound, Refused
from intake_service.serving.context import (
    database,
    duplicate_settings,
    locator,
    reference_cache,
    request_now,
)
from schemas.direct_line import MessageListSchema, MessageSchema, NewMessageSchema
from schemas.errors import flatten_errors

blp = ApiBlueprint(
    "direct_line",
    __name__,
    url_prefix="/api/v1/incidents",
    description="The direct line between the command centre and the operator, inside an "
    "incident: messages, requests for information, notes.",
)
_message_schema = MessageSchema()


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """The use cases' refusals as problems (the transaction inside has rolled back)."""
    try:
        yield
    except NotFound:
        abort(404, message="No such incident.")
    except Forbidden as exc:
        abort(403, message=str(exc))
    except Refused as exc:
        abort(
            409 if exc.conflict else 422,
            message=exc.message,
            errors=[{"field": exc.field or "incident", "message": exc.message}],
        )
    except ValidationError as exc:
        abort(422, errors=flatten_errors(exc.messages))
    except lifecycle.TransitionRefused as exc:
        abort(
            409,
            message=exc.message,
            errors=[{"field": "amendment", "message": exc.message}],
            slug="invalid-transition",
        )


def _line() -> messages.Line:
    return messages.Line(
        locator=locator(),
        reference=reference_cache(),
        public_url=current_app.extensions["intake.config"].public_url,
        duplicates=duplicate_settings(),
    )


@blp.route("/<incident_id>/messages")
class Messages(MethodView):
    @require("message.read")
    @blp.response(200, MessageListSchema)
    @blp.problem(404, "No such incident in your scope.")
    def get(self, incident_id: str) -> Any:
        """The incident's conversation

        Oldest first, as the caller's side sees it: both sides' messages and requests,
        and the caller's own side's notes (never the other side's). Audited.
        """
        now = request_now()
        with _answers(), database().transaction() as session:
            found = messages.list_messages(session, current_principal(), incident_id, now=now)
            documents = [messages.message_document(message, now) for message in found]
        open_requests = [d for d in documents if d["kind"] == "rfi" and d["answered_at"] is None]
        return {
            "messages": documents,
            "open_requests": len(open_requests),
            "overdue_requests": sum(1 for d in open_requests if d["overdue"]),
        }

    @require("message.post")
    @blp.arguments(NewMessageSchema)
    @blp.response(201, MessageSchema)
    @blp.problem(404, "No such incident in your scope.")
    @blp.problem(409, "The request is already answered, or the sheet can no longer be amended")
    @blp.problem(422, "Invalid message, answer or amendment (each field named)")
    def post(self, body: dict[str, Any], incident_id: str) -> Any:
        """Post a message, a request for information or a note

        ``kind`` ``rfi`` asks the other side, due by ``due_in_minutes`` (default by
        priority: P1 5 min, P2 15 min, P3/P4 2 h); a ``message`` with ``answers``
        answers the other side's open request; the operator may add an ``amendment``
        (a merge patch of the sheet) applied in the same step. A ``note`` stays on its
        author's side. Published as ``incident.message_posted`` on the feed and, when
        the operator may see it, on the operator's webhook.
        """
        due_in = body.get("due_in_minutes")
        new = messages.NewMessage(
            kind=body["kind"],
            text=body["text"],
            answers=str(body["answers"]) if body.get("answers") else None,
            due_in=dt.timedelta(minutes=due_in) if due_in else None,
            amendment=body.get("amendment"),
        )
        now = request_now()
        with _answers(), database().transaction() as session:
            message = messages.post_message(
                session, current_principal(), incident_id, new, now=now, line=_line()
            )
            document = _message_schema.dump(messages.message_document(message, now))
        location = url_for("direct_line.Messages", incident_id=incident_id) + f"#{message.id}"
        return make_response(document, 201, {"Location": location})
