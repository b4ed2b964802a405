"""The directory's bodies: an entity of the direct line, its referents, its functional
mailbox, hours and notices. No I/O: the use cases are in intake_service/directory."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates

from schemas.base import BaseSchema
from schemas.direct_line import storable_text
from schemas.fields import PhoneNumber, StrictBoolean, UtcDateTime
from schemas.vocabulary import DIRECTORY_ENTITY_KINDS, NOTICE_KINDS

NAME_MAX = 200
HOURS_MAX = 1000
REFERENTS_MAX = 20
EMAIL_MAX = 254


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=max_length), storable_text], **kwargs)


def optional_text(value: str) -> None:
    """As ``storable_text``, but an empty (or blank) text is allowed."""
    if value.strip():
        storable_text(value)


def _email(**kwargs: Any) -> fields.Email:
    return fields.Email(validate=validate.Length(max=EMAIL_MAX), **kwargs)


class ReferentSchema(BaseSchema):
    """A named referent: who to call about the direct line."""

    name = _text(NAME_MAX, required=True)
    function = fields.String(
        load_default="",
        validate=[validate.Length(max=NAME_MAX), optional_text],
        metadata={"description": "What the referent does (chef de salle, officier de liaison)."},
    )
    phone = PhoneNumber(
        allow_none=True,
        load_default=None,
        metadata={"description": "E.164 or French national format; answered in E.164."},
    )
    email = _email(allow_none=True, load_default=None)


class DirectoryEntityInSchema(BaseSchema):
    """An entity as PUT: the whole of it (referents replaced as a list)."""

    name = _text(NAME_MAX, required=True)
    mailbox = _email(
        allow_none=True,
        load_default=None,
        metadata={"description": "The functional mailbox notices go to (none: no notices)."},
    )
    hours = fields.String(
        load_default="",
        validate=[validate.Length(max=HOURS_MAX), optional_text],
        metadata={"description": "When the entity answers, in words (« 24 h/24, 7 j/7 »)."},
    )
    notices = fields.List(
        fields.String(
            validate=validate.OneOf(NOTICE_KINDS, error="Not a notice kind; kinds are: {choices}.")
        ),
        load_default=list(NOTICE_KINDS),
        metadata={"description": "The notice kinds the entity wants in its mailbox."},
    )
    digest = StrictBoolean(
        load_default=False,
        metadata={"description": "One email a day with the day's notices instead of one each."},
    )
    referents = fields.List(
        fields.Nested(ReferentSchema),
        load_default=list,
        validate=validate.Length(max=REFERENTS_MAX),
    )

    @validates("notices")
    def no_repeats(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("Each notice kind at most once.")


class ReferentOutSchema(BaseSchema):
    name = fields.String(required=True)
    function = fields.String(required=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class DirectoryEntitySchema(BaseSchema):
    """An entity as read: with its version (also its ETag)."""

    kind = fields.String(required=True, validate=validate.OneOf(DIRECTORY_ENTITY_KINDS))
    code = fields.String(required=True, metadata={"description": "The scope its accounts carry."})
    name = fields.String(required=True)
    mailbox = fields.String(allow_none=True)
    hours = fields.String(required=True)
    notices = fields.List(fields.String(), required=True)
    digest = fields.Boolean(required=True)
    referents = fields.List(fields.Nested(ReferentOutSchema), required=True)
    version = fields.Integer(required=True)
    updated_at = UtcDateTime(required=True)
    editable = fields.Boolean(
        required=True, metadata={"description": "Whether the caller may change it."}
    )


class DirectoryListSchema(BaseSchema):
    items = fields.List(fields.Nested(DirectoryEntitySchema), required=True)
