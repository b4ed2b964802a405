"""The message feed's versioned envelope and payloads (documented in docs/feed.md)."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import BaseSchema
from schemas.cctv import CctvRequisitionSchema
from schemas.direct_line import AttachmentSchema, MessageSchema
from schemas.fields import UtcDateTime
from schemas.incident import DuplicateCandidateSchema, GroupSchema, HolderSchema, IncidentSchema

ENVELOPE_VERSION = 1
EVENT_TYPES = (
    "incident.submitted",
    "incident.amended",
    "incident.withdrawn",
    "incident.escalated",
    "incident.status_changed",
    "incident.message_posted",
    "incident.cctv_requisition_changed",
    "incident.attachment_added",
    "incident.taken",
    "incident.released",
    "incident.grouped",
    "incident.ungrouped",
)


class IncidentEventPayloadSchema(BaseSchema):
    incident = fields.Nested(IncidentSchema, required=True)
    sequence = fields.Integer(
        required=True,
        metadata={
            "description": "Counts this incident's events from 1: apply an event only if its "
            "sequence is above the last one applied (messages may arrive out of order)."
        },
    )
    changed_paths = fields.List(fields.String(), metadata={"description": "incident.amended"})
    reason = fields.String(allow_none=True, metadata={"description": "incident.withdrawn"})
    status = fields.String(metadata={"description": "incident.status_changed: the new status"})
    detail = fields.Dict(
        metadata={"description": "incident.status_changed: call_sign, outcome, comment, cause"}
    )
    unacknowledged_for_seconds = fields.Integer(metadata={"description": "incident.escalated"})
    delay_seconds = fields.Integer(metadata={"description": "incident.escalated: the delay passed"})
    duplicates = fields.List(
        fields.Nested(DuplicateCandidateSchema),
        metadata={
            "description": "incident.submitted / incident.amended: the open incidents of the "
            "service that may be the same event, with their reasons (in French)."
        },
    )
    group = fields.Nested(
        GroupSchema,
        allow_none=True,
        metadata={"description": "incident.grouped / incident.ungrouped: the group now."},
    )
    holder = fields.Nested(
        HolderSchema,
        allow_none=True,
        metadata={
            "description": "incident.taken / incident.released: the command-centre operator "
            "who holds the incident now (null: nobody)."
        },
    )
    by = fields.String(
        metadata={
            "description": "incident.taken / incident.released: who took, released or "
            "reassigned it (a supervisor reassigns)."
        }
    )
    message = fields.Nested(
        MessageSchema,
        metadata={
            "description": "incident.message_posted: the message (a CIC note too: the feed is "
            "the CIC's; an operator's note is never on it)"
        },
    )
    cctv_requisition = fields.Nested(
        CctvRequisitionSchema,
        metadata={"description": "incident.cctv_requisition_changed: the requisition as it is now"},
    )
    attachment = fields.Nested(
        AttachmentSchema,
        metadata={
            "description": "incident.attachment_added: the file's metadata (never its bytes: "
            "download it from the API)"
        },
    )


class EnvelopeSchema(BaseSchema):
    id = fields.String(required=True, metadata={"description": "Event id: deduplicate on it."})
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    version = fields.Integer(required=True, validate=validate.Equal(ENVELOPE_VERSION))
    occurred_at = UtcDateTime(required=True)
    payload = fields.Nested(IncidentEventPayloadSchema, required=True)
