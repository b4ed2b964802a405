"""The API bodies of GPO meetings: plan, hold (attendance, decisions, minutes), a
decision, skip or cancel, a partner's view of an assessment; and the meeting as read.

What the schemas cannot judge alone (a partner of the GPO, a problem of the GPO, an
action of the problem, an allowed move) the use case judges, naming the field the
same way (``decisions.0.problem_id``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema
from schemas.fields import UtcDateTime
from schemas.gpo import (
    MAX_VERSION,
    PROBLEM_STATES,
    ActionSchema,
    ActionUpdateSchema,
    _code,
    _not_blank,
    _one_of,
)

MEETING_STATUSES = ("planned", "held", "skipped", "cancelled")
DECISION_KINDS = ("note", "action_created", "action_changed", "state_changed")
EVALUATION_VIEWS = ("resolved", "improved", "not_resolved")
AGENDA_KINDS = ("new_incidents", "actions_late", "actions_due", "assessment_due")
RHYTHMS = ("fortnightly", "monthly", "dates")
MAX_PARTNERS = 100
MAX_DECISIONS = 100
ID = validate.Length(min=1, max=36)
# Instants far outside any GPO's life are typos (and would overflow the brief's windows).
INSTANT_RANGE = validate.Range(
    min=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    max=dt.datetime(2100, 12, 31, tzinfo=dt.UTC),
    error="Must be between {min} and {max}.",
)


def _partners(description: str) -> fields.List:
    return fields.List(
        _code(), validate=validate.Length(max=MAX_PARTNERS), metadata={"description": description}
    )


class MeetingPlanSchema(BaseSchema):
    planned_at = UtcDateTime(
        required=True, validate=INSTANT_RANGE, metadata={"description": "When it starts."}
    )
    place = fields.String(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    invited = _partners("The partners invited (default: every partner of the GPO).")


class MeetingDecisionSchema(BaseSchema):
    """A decision: a ``note``; an action created (``action``) or changed (``action_id``,
    ``changes``); a problem moved (``to``, ``reason``). ``text`` is read by the partners."""

    kind = fields.String(required=True, validate=_one_of(DECISION_KINDS))
    problem_id = fields.String(validate=ID, metadata={"description": "Required but for a note."})
    text = fields.String(validate=validate.Length(max=5000))
    action = fields.Nested(ActionSchema, metadata={"description": "For action_created."})
    action_id = fields.Integer(strict=True, validate=validate.Range(1, MAX_VERSION))
    changes = fields.Nested(ActionUpdateSchema, metadata={"description": "For action_changed."})
    to = fields.String(
        validate=_one_of(PROBLEM_STATES), metadata={"description": "For state_changed."}
    )
    reason = fields.String(validate=validate.Length(max=2000), allow_none=True)

    @validates_schema(skip_on_field_errors=True)
    def check_kind(self, data: dict[str, Any], **_: Any) -> None:
        kind = data["kind"]
        needed = {
            "note": ("text",),
            "action_created": ("problem_id", "action"),
            "action_changed": ("problem_id", "action_id", "changes"),
            "state_changed": ("problem_id", "to"),
        }[kind]
        missing = {
            name: ["Missing data for required field."]
            for name in needed
            if data.get(name) in (None, "") or (name == "text" and not str(data[name]).strip())
        }
        if missing:
            raise ValidationError(missing)


class MeetingHoldSchema(BaseSchema):
    present = _partners("The partners present.")
    minutes = fields.String(
        validate=validate.Length(max=20000),
        metadata={"description": "The minutes' text, read by the partners (masked for them)."},
    )
    held_at = UtcDateTime(
        validate=INSTANT_RANGE,
        metadata={"description": "When it was held (default: the planned time, if past)."},
    )
    decisions = fields.List(
        fields.Nested(MeetingDecisionSchema), validate=validate.Length(max=MAX_DECISIONS)
    )
    version = fields.Integer(strict=True, validate=validate.Range(1, MAX_VERSION))


class MeetingCloseSchema(BaseSchema):
    status = fields.String(required=True, validate=_one_of(("skipped", "cancelled")))


class MeetingEvaluationSchema(BaseSchema):
    problem_id = fields.String(required=True, validate=ID)
    view = fields.String(required=True, validate=_one_of(EVALUATION_VIEWS))
    comment = fields.String(validate=validate.Length(max=2000))
    partner_code = _code(
        metadata={"description": "The referent writing a present partner's view names it."}
    )


class MeetingAgendaItemSchema(BaseSchema):
    kind = fields.String(metadata={"enum": list(AGENDA_KINDS)})
    problem_id = fields.String()
    title = fields.String()
    text = fields.String()


class MeetingAttendeeSchema(BaseSchema):
    partner_code = fields.String()
    name = fields.String()
    invited = fields.Boolean()
    present = fields.Boolean()


class MeetingDecisionOutSchema(BaseSchema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(DECISION_KINDS)})
    problem_id = fields.String(allow_none=True)
    problem_title = fields.String(allow_none=True)
    text = fields.String()
    action_id = fields.Integer(allow_none=True)
    detail = fields.Dict()
    created_at = UtcDateTime()


class MeetingEvaluationOutSchema(BaseSchema):
    problem_id = fields.String()
    problem_title = fields.String(allow_none=True)
    partner_code = fields.String()
    view = fields.String(metadata={"enum": list(EVALUATION_VIEWS)})
    comment = fields.String()
    recorded_at = UtcDateTime()


class MeetingSchema(BaseSchema):
    id = fields.String()
    gpo_code = fields.String()
    planned_at = UtcDateTime()
    place = fields.String()
    status = fields.String(metadata={"enum": list(MEETING_STATUSES)})
    held_at = UtcDateTime(allow_none=True)
    agenda = fields.List(fields.Nested(MeetingAgendaItemSchema))
    agenda_sent_at = UtcDateTime(allow_none=True)
    reminded_at = UtcDateTime(allow_none=True)
    attendees = fields.List(fields.Nested(MeetingAttendeeSchema))
    decisions = fields.List(fields.Nested(MeetingDecisionOutSchema))
    evaluations = fields.List(fields.Nested(MeetingEvaluationOutSchema))
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    version = fields.Integer()


class MeetingListSchema(BaseSchema):
    items = fields.List(fields.Nested(MeetingSchema))


class MeetingProposalSchema(BaseSchema):
    rhythm = fields.String(metadata={"enum": list(RHYTHMS)})
    last_held_at = UtcDateTime(allow_none=True)
    planned_at = UtcDateTime(
        allow_none=True, metadata={"description": "None for the dates rhythm or no meeting held."}
    )
    place = fields.String()


class AgendaSentSchema(BaseSchema):
    meeting = fields.Nested(MeetingSchema)
    reached = fields.List(fields.String(), metadata={"description": "Partners emailed."})
    unreachable = fields.List(
        fields.String(), metadata={"description": "Partners with no mailbox nor account email."}
    )


class MinutesIncidentSchema(BaseSchema):
    problem_id = fields.String()
    occurred_on = fields.Date()
    stop = fields.String()
    natures = fields.List(fields.String())
    # The referent's version only.
    id = fields.String()
    occurred_at = UtcDateTime()
    place = fields.String()
    priority = fields.String()
    excerpt = fields.String()


class MinutesSchema(BaseSchema):
    version = fields.String(metadata={"enum": ["referent", "partner"]})
    meeting = fields.Nested(MeetingSchema)
    minutes = fields.String()
    incidents = fields.List(fields.Nested(MinutesIncidentSchema))
