"""The assessment of a GPO problem (weeks, before/after) and the meeting brief, as the API
shows them. Query arguments name their field when wrong (``pivot``, ``window_days``,
``date``)."""

from __future__ import annotations

import datetime as dt

from marshmallow import fields, validate

from schemas.base import BaseSchema
from schemas.fields import UtcDateTime

MAX_WINDOW_DAYS = 366
PRIORITIES = ("P1", "P2", "P3", "P4")
# Dates far outside any GPO's life are typos (and would overflow the windows' arithmetic).
DATE_RANGE = validate.Range(
    min=dt.date(2000, 1, 1), max=dt.date(2100, 12, 31), error="Must be between {min} and {max}."
)


class AssessmentArgsSchema(BaseSchema):
    pivot = fields.Date(
        validate=DATE_RANGE,
        metadata={"description": "The date the windows are around (default: first action start)."},
    )
    window_days = fields.Integer(
        validate=validate.Range(1, MAX_WINDOW_DAYS),
        metadata={"description": "Days in each window (default: days since the pivot, min 7)."},
    )


class BriefArgsSchema(BaseSchema):
    date = fields.Date(
        validate=DATE_RANGE, metadata={"description": "The meeting's date (default: today, Paris)."}
    )


class WeekSchema(BaseSchema):
    week = fields.Date(required=True, metadata={"description": "The week's Monday."})
    in_scope = fields.Integer(required=True)
    linked = fields.Integer(required=True)


class MarkerSchema(BaseSchema):
    on = fields.Date(required=True)
    label = fields.String(required=True)


class WindowSchema(BaseSchema):
    start = fields.Date(required=True)
    end = fields.Date(required=True, metadata={"description": "The window's last day."})
    count = fields.Integer(required=True)
    priorities = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    severities = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    staff_victims = fields.Integer(required=True)
    staff_share_pct = fields.Float(allow_none=True, required=True)


class ChangeSchema(BaseSchema):
    count_pct = fields.Float(allow_none=True, required=True)
    priorities_pct = fields.Dict(
        keys=fields.String(), values=fields.Float(allow_none=True), required=True
    )
    severities_pct = fields.Dict(
        keys=fields.String(), values=fields.Float(allow_none=True), required=True
    )
    staff_victims_pct = fields.Float(allow_none=True, required=True)
    staff_share_points = fields.Float(allow_none=True, required=True)


class BeforeAfterSchema(BaseSchema):
    pivot = fields.Date(required=True)
    window_days = fields.Integer(required=True)
    after_elapsed_days = fields.Integer(required=True)
    complete = fields.Boolean(required=True)
    before = fields.Nested(WindowSchema, required=True)
    after = fields.Nested(WindowSchema, required=True)
    change = fields.Nested(ChangeSchema, required=True)


class AssessmentSchema(BaseSchema):
    problem_id = fields.String(required=True)
    title = fields.String(required=True)
    weeks = fields.List(fields.Nested(WeekSchema), required=True)
    markers = fields.List(fields.Nested(MarkerSchema), required=True)
    before_after = fields.Nested(
        BeforeAfterSchema,
        allow_none=True,
        required=True,
        metadata={"description": "Null when no pivot is given and no action has started."},
    )


class BriefIncidentSchema(BaseSchema):
    """The referent's version has id, time, place, priority, linked, excerpt; the
    partners' only the day, the stop and the natures."""

    id = fields.String()
    occurred_at = UtcDateTime()
    occurred_on = fields.Date()
    place = fields.String()
    stop = fields.String()
    natures = fields.List(fields.String(), required=True)
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    linked = fields.Boolean()
    excerpt = fields.String()


class BriefActionSchema(BaseSchema):
    what = fields.String(required=True)
    owner_partner = fields.String(required=True)
    starts_on = fields.Date(allow_none=True, required=True)
    due_on = fields.Date(allow_none=True, required=True)
    status = fields.String(required=True)
    late = fields.Boolean(required=True)


class BriefProblemSchema(BaseSchema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True)
    since = UtcDateTime(required=True, metadata={"description": "The last meeting, or 28 days."})
    until = UtcDateTime(required=True)
    new_count = fields.Integer(required=True)
    new_linked_count = fields.Integer(required=True)
    incidents = fields.List(fields.Nested(BriefIncidentSchema), required=True)
    actions_due = fields.List(fields.Nested(BriefActionSchema), required=True)
    actions_late = fields.List(fields.Nested(BriefActionSchema), required=True)
    assessment = fields.Nested(BeforeAfterSchema, allow_none=True, required=True)


class BriefSchema(BaseSchema):
    gpo_code = fields.String(required=True)
    gpo_name = fields.String(required=True)
    meeting_date = fields.Date(required=True)
    version = fields.String(required=True, validate=validate.OneOf(("referent", "partner")))
    generated_at = UtcDateTime(required=True)
    problems = fields.List(fields.Nested(BriefProblemSchema), required=True)
