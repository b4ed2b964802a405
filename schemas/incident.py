"""What the API answers about incidents (output and query schemas)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from schemas import vocabulary as v
from schemas.base import BaseSchema
from schemas.fields import FullMatch, UtcDateTime
from schemas.sheet import SheetSchema


class StoredSheet(fields.Nested):
    """A sheet already kept in its JSON form: written as is, documented as a Sheet."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(SheetSchema, **kwargs)

    # marshmallow types Nested._serialize and Field._serialize differently; either fits.
    def _serialize(self, nested_obj: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return nested_obj


class SheetWarningSchema(BaseSchema):
    code = fields.String(required=True)
    field = fields.String(required=True, metadata={"description": "Path of the field concerned."})
    message = fields.String(required=True)


class CompetentServiceSchema(BaseSchema):
    kind = fields.String(
        required=True, metadata={"description": "police, gendarmerie, prefecture_de_police"}
    )
    code = fields.String(required=True, metadata={"example": "ddsp-83"})
    name = fields.String(required=True)


class StatusChangeSchema(BaseSchema):
    status = fields.String(required=True, validate=validate.OneOf(v.STATUSES))
    at = UtcDateTime(required=True)
    author_role = fields.String(required=True)
    author = fields.String(required=True)
    detail = fields.Dict(required=True)


class IncidentSchema(BaseSchema):
    """An accepted incident: what the service computed, and the sheet as stored."""

    id = fields.String(required=True, metadata={"format": "uuid"})
    operator = fields.String(required=True, metadata={"description": "Operator code."})
    operator_reference = fields.String(required=True)
    received_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(v.STATUSES))
    priority = fields.String(required=True, validate=validate.OneOf(v.PRIORITIES))
    priority_reason = fields.String(
        required=True, metadata={"description": "The rule that set it."}
    )
    version = fields.Integer(required=True)
    warnings = fields.List(fields.Nested(SheetWarningSchema), required=True)
    competent_service = fields.Nested(CompetentServiceSchema, allow_none=True, required=True)
    police_zone = fields.String(allow_none=True, required=True)
    insee_code = fields.String(allow_none=True, required=True)
    routing_basis = fields.String(
        allow_none=True, required=True, metadata={"description": "stop, coordinates or insee_code"}
    )
    routing_confidence = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "certain; assumed when the police-zone table does not cover the "
            "commune's département (routed to its gendarmerie, a guess: warning "
            "routing_assumed); corrected once a command centre redirected an assumed "
            "routing; null when unrouted or received before the service recorded it."
        },
    )
    status_history = fields.List(fields.Nested(StatusChangeSchema), required=True)
    sheet = StoredSheet(required=True)


class IncidentSummarySchema(BaseSchema):
    id = fields.String(required=True)
    operator_reference = fields.String(required=True)
    received_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    occurred_at = UtcDateTime(required=True)
    status = fields.String(required=True)
    priority = fields.String(required=True)
    state = fields.String(required=True)
    primary_nature = fields.String(required=True)
    version = fields.Integer(required=True)


class IncidentPageSchema(BaseSchema):
    items = fields.List(fields.Nested(IncidentSummarySchema), required=True)
    next_cursor = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Pass as `cursor` for the next page."},
    )


class IncidentListArgsSchema(BaseSchema):
    status = fields.List(fields.String(validate=validate.OneOf(v.STATUSES)))
    priority = fields.List(fields.String(validate=validate.OneOf(v.PRIORITIES)))
    received_from = UtcDateTime(metadata={"description": "Inclusive lower bound on received_at."})
    received_to = UtcDateTime(metadata={"description": "Exclusive upper bound on received_at."})
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class VersionSchema(BaseSchema):
    version = fields.Integer(required=True)
    created_at = UtcDateTime(required=True)
    author = fields.String(required=True)
    priority = fields.String(required=True)
    changed_paths = fields.List(fields.String(), required=True)
    sheet = StoredSheet(required=True)


class VersionListSchema(BaseSchema):
    items = fields.List(fields.Nested(VersionSchema), required=True)


class WithdrawalSchema(BaseSchema):
    reason = fields.String(validate=validate.Length(min=1, max=500))


class StatusRequestSchema(BaseSchema):
    """A command centre's action on an incident."""

    status = fields.String(
        required=True, validate=validate.OneOf(("acknowledged", "dispatched", "closed", "rejected"))
    )
    call_sign = fields.String(
        validate=validate.Length(1, 32),
        metadata={"description": "dispatched: the patrol's call sign"},
    )
    outcome = fields.String(
        validate=validate.OneOf(v.OUTCOMES), metadata={"description": "closed: required"}
    )
    comment = fields.String(
        validate=validate.Length(1, 1000), metadata={"description": "closed: required"}
    )
    cause_code = fields.String(
        validate=validate.OneOf(v.REJECT_CAUSES),
        metadata={
            "description": "rejected: why, as a code the operator's system can act on "
            "(required; a rejection with only a `cause` text is recorded as `other`)"
        },
    )
    cause = fields.String(
        validate=validate.Length(1, 500),
        metadata={"description": "rejected: why, in words (required with cause_code `other`)"},
    )
    redirect_to = fields.String(
        validate=FullMatch(r"[a-z0-9][a-z0-9-]{1,31}"),
        metadata={"description": "rejected: the competent service, to re-route the incident to"},
    )

    @validates_schema
    def check_status_fields(self, data: dict[str, Any], **_: Any) -> None:
        status = data["status"]
        errors: dict[str, list[str]] = {}
        if status == "closed":
            for key in ("outcome", "comment"):
                if key not in data:
                    errors[key] = ["Required to close an incident."]
        if status == "rejected":
            if "cause_code" not in data and "cause" not in data:
                errors["cause_code"] = ["Required to reject an incident."]
            elif data.get("cause_code") == "other" and "cause" not in data:
                errors["cause"] = ["Required with cause_code 'other'."]
        for key, allowed in (
            ("call_sign", "dispatched"),
            ("outcome", "closed"),
            ("cause", "rejected"),
            ("cause_code", "rejected"),
            ("redirect_to", "rejected"),
        ):
            if key in data and status != allowed:
                errors.setdefault(key, []).append(f"Only with status '{allowed}'.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def code_every_rejection(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # A client written before the codes sends its text alone: it is "other".
        if data["status"] == "rejected":
            data.setdefault("cause_code", "other")
        return data


class QueueItemSchema(IncidentSummarySchema):
    operator = fields.String(required=True)
    escalated = fields.Boolean(
        required=True, metadata={"description": "Left unacknowledged too long."}
    )
    service_code = fields.String(allow_none=True, required=True)


class QueuePageSchema(BaseSchema):
    items = fields.List(fields.Nested(QueueItemSchema), required=True)


class QueueArgsSchema(BaseSchema):
    status = fields.List(fields.String(validate=validate.OneOf(v.OPEN_STATUSES)))
    priority = fields.List(fields.String(validate=validate.OneOf(v.PRIORITIES)))
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 500))


class HolderSchema(BaseSchema):
    """The command-centre operator who took an incident."""

    person = fields.String(required=True, metadata={"description": "The operator's email."})
    at = UtcDateTime(required=True, metadata={"description": "Since when."})


class HolderAnswerSchema(BaseSchema):
    incident_id = fields.String(required=True)
    holder = fields.Nested(
        HolderSchema, allow_none=True, required=True, metadata={"description": "null: nobody."}
    )


class DuplicateCandidateSchema(BaseSchema):
    """An incident that may be the same event (the command centre's view)."""

    incident_id = fields.String(required=True)
    operator = fields.String(required=True)
    operator_reference = fields.String(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True)
    reasons = fields.List(
        fields.String(), required=True, metadata={"description": "Why, in French."}
    )
    strong = fields.Boolean(
        required=True,
        metadata={"description": "The same vehicle within 10 minutes, natures of one family."},
    )
    state = fields.String(
        required=True,
        validate=validate.OneOf(("proposed", "same", "distinct")),
        metadata={"description": "proposed; same (grouped); distinct (never proposed again)."},
    )
    group_id = fields.String(allow_none=True, required=True)


class GroupSchema(BaseSchema):
    """Reports of one event: acting on the lead acts on every member."""

    id = fields.String(required=True)
    lead = fields.String(
        required=True, metadata={"description": "The highest priority, then the earliest."}
    )
    members = fields.List(fields.String(), required=True)
    size = fields.Integer(required=True)


class DuplicatesSchema(BaseSchema):
    candidates = fields.List(fields.Nested(DuplicateCandidateSchema), required=True)
    group = fields.Nested(GroupSchema, allow_none=True, required=True)


class DuplicateDecisionSchema(BaseSchema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(("same", "distinct")),
        metadata={
            "description": "same: one event (the two form a group); distinct: never proposed again."
        },
    )
