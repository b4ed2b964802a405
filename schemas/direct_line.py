"""The direct line's bodies: the conversation's messages (and, beside them, the CCTV
requisitions and attachments). No I/O: the use cases are in intake_service/direct_line."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from schemas.base import BaseSchema
from schemas.fields import UtcDateTime

MESSAGE_KINDS = ("message", "rfi", "note")
SIDES = ("command_centre", "operator")
TEXT_MAX = 4000
# A request's own delay, in minutes (1 minute to 7 days).
DUE_MINUTES_MAX = 7 * 24 * 60

# PostgreSQL refuses a NUL in a text and a lone surrogate in UTF-8; SQLite would keep
# both. Refused here, on both, with the field named. Other control characters than
# tab and line breaks have no place in a message either.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def storable_text(value: str) -> None:
    """A text both databases keep as given: no NUL, no lone surrogate, no control character."""
    if _UNSTORABLE.search(value):
        raise ValidationError("Must not contain control characters or lone surrogates.")
    if not value.strip():
        raise ValidationError("Must not be blank.")


def text_field(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(max=max_length), storable_text], **kwargs)


class NewMessageSchema(BaseSchema):
    """A message, a request for information or a note, posted by either side."""

    kind = fields.String(
        load_default="message",
        validate=validate.OneOf(MESSAGE_KINDS, error="Must be one of: {choices}."),
        metadata={
            "description": "message (to the other side), rfi (a request for information, "
            "due by due_at), note (internal to the author's side: never shown to the other)."
        },
    )
    text = text_field(TEXT_MAX, required=True)
    answers = fields.UUID(
        metadata={"description": "The id of the other side's open request this message answers."}
    )
    due_in_minutes = fields.Integer(
        strict=True,
        validate=validate.Range(1, DUE_MINUTES_MAX),
        metadata={
            "description": "rfi only: the delay to answer. Default by the incident's priority: "
            "P1 5 min, P2 15 min, P3/P4 2 h."
        },
    )
    amendment = fields.Dict(
        metadata={
            "description": "Operator only: a JSON merge patch (RFC 7396) of the sheet, applied "
            "in the same step as the message (a new version of the sheet, as PATCH does)."
        }
    )

    @validates_schema
    def check_kind(self, data: dict[str, Any], **_: Any) -> None:
        if "due_in_minutes" in data and data.get("kind") != "rfi":
            raise ValidationError(
                "Only a request for information (kind rfi) has a due time.", "due_in_minutes"
            )
        if "answers" in data and data.get("kind", "message") != "message":
            raise ValidationError("An answer is a message (kind message).", "kind")


class MessageAuthorSchema(BaseSchema):
    role = fields.String(required=True)
    organisation = fields.String(required=True, metadata={"description": "The author's scope."})
    person = fields.String(
        required=True, metadata={"description": "The person signed in, or the token's label."}
    )


class MessageSchema(BaseSchema):
    id = fields.String(required=True)
    incident_id = fields.String(required=True)
    number = fields.Integer(
        required=True, metadata={"description": "Its place in the conversation, from 1."}
    )
    side = fields.String(required=True, validate=validate.OneOf(SIDES))
    kind = fields.String(required=True, validate=validate.OneOf(MESSAGE_KINDS))
    text = fields.String(required=True)
    author = fields.Nested(MessageAuthorSchema, required=True)
    created_at = UtcDateTime(required=True)
    due_at = UtcDateTime(allow_none=True, metadata={"description": "rfi: when it is due."})
    answers = fields.String(allow_none=True, metadata={"description": "The request it answers."})
    answered_at = UtcDateTime(allow_none=True, metadata={"description": "rfi: when answered."})
    answered_by = fields.String(allow_none=True, metadata={"description": "rfi: the answer's id."})
    overdue = fields.Boolean(
        required=True, metadata={"description": "rfi: unanswered past its due time."}
    )
    amended_version = fields.Integer(
        allow_none=True,
        metadata={"description": "The sheet's version this message's amendment made."},
    )


class MessageListSchema(BaseSchema):
    messages = fields.List(fields.Nested(MessageSchema), required=True)
    open_requests = fields.Integer(
        required=True, metadata={"description": "Requests for information not yet answered."}
    )
    overdue_requests = fields.Integer(required=True)


# --- Attachments ---------------------------------------------------------------------


class NewAttachmentSchema(BaseSchema):
    """The form fields sent beside the file (multipart/form-data)."""

    message_id = fields.UUID(
        metadata={
            "description": "One of the caller's side's messages the file goes with (its "
            "visibility follows the message's: a file on a note stays on its side)."
        }
    )

    @pre_load
    def drop_empty(self, data: Any, **_: Any) -> Any:
        """A form's empty field is no value (a browser sends ``message_id=``)."""
        if hasattr(data, "items"):
            return {key: value for key, value in data.items() if value != ""}
        return data


class AttachmentUploaderSchema(BaseSchema):
    role = fields.String(required=True)
    person = fields.String(
        required=True, metadata={"description": "The person signed in, or the token's label."}
    )


class AttachmentSchema(BaseSchema):
    id = fields.String(required=True)
    incident_id = fields.String(required=True)
    message_id = fields.String(allow_none=True)
    side = fields.String(required=True, validate=validate.OneOf(SIDES))
    filename = fields.String(
        required=True,
        metadata={"description": "The sender's name, with the extension of the sniffed type."},
    )
    content_type = fields.String(
        required=True,
        metadata={"description": "Sniffed from the content (never the name or the header)."},
    )
    size = fields.Integer(required=True, metadata={"description": "Bytes, as stored."})
    sha256 = fields.String(required=True, metadata={"description": "Of the stored bytes."})
    uploaded_by = fields.Nested(AttachmentUploaderSchema, required=True)
    created_at = UtcDateTime(required=True)


class AttachmentListSchema(BaseSchema):
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)
