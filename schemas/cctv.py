"""The CCTV requisitions' bodies: a request for an incident's footage, a step of its
answer, the requisition as read, and its measures. No I/O: the use cases are in
intake_service/direct_line/cctv.py, the rules in intake_service/direct_line/rules/cctv.py."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema
from schemas.direct_line import text_field
from schemas.fields import UtcDateTime

STATES = ("requested", "extracted", "handed_over", "refused", "erased")
TARGETS = ("extracted", "handed_over", "refused", "erased")
# What each step needs (the rules check it again: intake_service/direct_line/rules/cctv.py).
NEEDS = {
    "extracted": "extraction_reference",
    "handed_over": "handed_over_to",
    "refused": "reason",
    "erased": "reason",
}
WHAT_MAX = 2000


class NewRequisitionSchema(BaseSchema):
    """The police side asks the operator for the footage of the incident."""

    what = text_field(
        WHAT_MAX,
        required=True,
        metadata={
            "description": "Which cameras, which period: « caméras embarquées du bus "
            "1742, de 18 h 15 à 18 h 40 »."
        },
    )


class RequisitionStepSchema(BaseSchema):
    """The operator's answer, one step at a time (the requisition's ``ETag`` as If-Match)."""

    state = fields.String(
        required=True,
        validate=validate.OneOf(TARGETS, error="Must be one of: {choices}."),
        metadata={
            "description": "extracted (with extraction_reference), handed_over (with "
            "handed_over_to, and handed_over_at if not now), refused or erased (with reason)."
        },
    )
    extraction_reference = text_field(100)
    handed_over_to = text_field(200, metadata={"description": "Who received the extract."})
    handed_over_at = UtcDateTime(metadata={"description": "When; default now."})
    reason = text_field(2000)

    @validates_schema
    def check_needs(self, data: dict[str, Any], **_: Any) -> None:
        needed = NEEDS.get(data.get("state", ""))
        if needed is not None and not data.get(needed):
            raise ValidationError(f"Required when state is {data['state']}.", needed)
        allowed = {needed, "handed_over_at" if needed == "handed_over_to" else None}
        for name in ("extraction_reference", "handed_over_to", "handed_over_at", "reason"):
            if name in data and name not in allowed:
                raise ValidationError(f"Not a field of the step {data.get('state')}.", name)


class RequesterSchema(BaseSchema):
    role = fields.String(required=True)
    organisation = fields.String(required=True)
    person = fields.String(required=True)


class CctvRequisitionSchema(BaseSchema):
    id = fields.String(required=True)
    incident_id = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    what = fields.String(required=True)
    requested_at = UtcDateTime(required=True)
    requested_by = fields.Nested(RequesterSchema, required=True)
    erase_deadline = UtcDateTime(
        allow_none=True,
        metadata={
            "description": "When the footage is erased: the sheet's video.erased_after "
            "when it was requested."
        },
    )
    seconds_left = fields.Integer(
        allow_none=True, metadata={"description": "Until the deadline (negative: passed)."}
    )
    extraction_reference = fields.String(allow_none=True)
    extracted_at = UtcDateTime(allow_none=True)
    extracted_in_time = fields.Boolean(
        required=True, metadata={"description": "Extracted before the erase deadline."}
    )
    handed_over_to = fields.String(allow_none=True)
    handed_over_at = UtcDateTime(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "refused or erased: why."})
    closed_at = UtcDateTime(allow_none=True)
    alerted_24h_at = UtcDateTime(allow_none=True)
    alerted_2h_at = UtcDateTime(allow_none=True)
    updated_at = UtcDateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "Its ETag."})


class CctvRequisitionListSchema(BaseSchema):
    items = fields.List(fields.Nested(CctvRequisitionSchema), required=True)


class MeasuresQuerySchema(BaseSchema):
    since = UtcDateTime(metadata={"description": "Requested from (default: 90 days ago)."})
    until = UtcDateTime(metadata={"description": "Requested up to (included; default: now)."})

    @validates_schema
    def check_period(self, data: dict[str, Any], **_: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and until < since:
            raise ValidationError("The end is before the start.", "until")


class MeasureRowSchema(BaseSchema):
    code = fields.String(required=True, metadata={"description": "Operator or service code."})
    requested = fields.Integer(required=True)
    extracted_in_time = fields.Integer(required=True)
    share = fields.Float(
        allow_none=True, metadata={"description": "extracted_in_time / requested (0 to 1)."}
    )


class CctvMeasuresSchema(BaseSchema):
    since = UtcDateTime(required=True)
    until = UtcDateTime(required=True)
    by_operator = fields.List(fields.Nested(MeasureRowSchema), required=True)
    by_service = fields.List(fields.Nested(MeasureRowSchema), required=True)
