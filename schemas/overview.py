"""The national and départemental view and the hotspots, as the API shows them:
aggregates only. Query arguments name their field when wrong (``from``, ``to``, ``gpo``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema
from schemas.fields import UtcDateTime

MAX_DAYS = 3 * 366
DATE_RANGE = validate.Range(
    min=dt.date(2000, 1, 1), max=dt.date(2100, 12, 31), error="Must be between {min} and {max}."
)


class PeriodArgsSchema(BaseSchema):
    from_ = fields.Date(
        data_key="from",
        validate=DATE_RANGE,
        metadata={
            "description": "First day (Paris time); default: 11 months before this one's 1st."
        },
    )
    to = fields.Date(
        validate=DATE_RANGE, metadata={"description": "Last day (Paris time), included; today."}
    )

    @validates_schema
    def _check_range(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start is not None and end is not None:
            if end < start:
                raise ValidationError("The end is before the start (from).", "to")
            if (end - start).days >= MAX_DAYS:
                raise ValidationError(f"At most {MAX_DAYS} days at once.", "to")


class HotspotArgsSchema(PeriodArgsSchema):
    gpo = fields.String(
        validate=validate.Length(1, 64),
        metadata={"description": "A GPO's code: its incidents only (a referent: its own)."},
    )


MONTHLY = fields.Dict(keys=fields.String(), values=fields.Integer())


class GposFiguresSchema(BaseSchema):
    deployed = fields.Integer(required=True)
    in_creation = fields.Integer(required=True)
    declared = fields.Integer(required=True)
    active = fields.Integer(
        required=True, metadata={"description": "A meeting held in the 60 days up to the end."}
    )


class ProblemFiguresSchema(BaseSchema):
    identified = fields.Integer(required=True, metadata={"description": "Created in the period."})
    in_progress = fields.Integer(
        required=True, metadata={"description": "Being worked on at the period's end."}
    )
    resolved = fields.Integer(required=True)
    improved = fields.Integer(required=True)
    not_resolved = fields.Integer(required=True)
    abandoned = fields.Integer(required=True)
    out_of_scope = fields.Integer(required=True)
    median_days_to_resolve = fields.Float(required=True, allow_none=True)
    identified_by_month = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    resolved_by_month = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class MeetingFiguresSchema(BaseSchema):
    held = fields.Integer(required=True, metadata={"description": "Days the GPO(s) met."})
    last_on = fields.Date(required=True, allow_none=True)
    rhythm_kept = fields.Boolean(
        required=True, allow_none=True, metadata={"description": "A GPO's; null for a group."}
    )
    gpos_rhythm_kept = fields.Integer(required=True)
    gpos_rhythm_missed = fields.Integer(required=True)


class IncidentFiguresSchema(BaseSchema):
    count = fields.Integer(required=True)
    by_family = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_month = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        required=True,
        metadata={"description": "YYYY-MM → nature family → incidents."},
    )
    staff_victim_incidents = fields.Integer(required=True)
    staff_victims = fields.Integer(required=True)
    p1_p2 = fields.Integer(required=True)
    share_p1_p2 = fields.Float(required=True, allow_none=True)


class AppointmentFiguresSchema(BaseSchema):
    eligible = fields.Integer(required=True, metadata={"description": "Eligible staff victims."})
    booked = fields.Integer(required=True)
    share_booked = fields.Float(allow_none=True, required=True)
    median_delay_hours = fields.Float(allow_none=True, required=True)
    past = fields.Integer(required=True)
    honoured = fields.Integer(required=True)
    missed = fields.Integer(required=True)
    share_honoured = fields.Float(allow_none=True, required=True)
    share_missed = fields.Float(allow_none=True, required=True)


class UnitSchema(BaseSchema):
    key = fields.String(required=True, metadata={"description": "Département or GPO code."})
    name = fields.String(required=True)
    status = fields.String(required=True, allow_none=True)
    meeting_rhythm = fields.String(required=True, allow_none=True)
    gpos = fields.Nested(GposFiguresSchema, required=True)
    problems = fields.Nested(ProblemFiguresSchema, required=True)
    meetings = fields.Nested(MeetingFiguresSchema, required=True)
    incidents = fields.Nested(IncidentFiguresSchema, required=True)
    appointments = fields.Nested(AppointmentFiguresSchema, required=True)


class OverviewSchema(BaseSchema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    generated_at = UtcDateTime(required=True)
    level = fields.String(required=True, metadata={"description": "national or departement."})
    department = fields.String(required=True, allow_none=True)
    total = fields.Nested(UnitSchema, required=True)
    rows = fields.List(
        fields.Nested(UnitSchema),
        required=True,
        metadata={"description": "Per département (national) or per GPO (départemental)."},
    )


class HotLineSchema(BaseSchema):
    operator = fields.String(required=True)
    route_id = fields.String(required=True)
    name = fields.String(required=True)
    count = fields.Integer(required=True)
    open_problem = fields.Boolean(required=True)
    hours = fields.List(
        fields.List(fields.Integer()),
        required=True,
        metadata={"description": "7 rows (Monday first) of 24 hours (Paris time)."},
    )


class HotStopSchema(BaseSchema):
    operator = fields.String(required=True)
    stop_id = fields.String(required=True)
    name = fields.String(required=True)
    lat = fields.Float(required=True, allow_none=True)
    lon = fields.Float(required=True, allow_none=True)
    count = fields.Integer(required=True)
    open_problem = fields.Boolean(required=True)


class HotspotsSchema(BaseSchema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    gpo = fields.String(required=True, allow_none=True)
    count = fields.Integer(required=True)
    without_line = fields.Integer(required=True)
    without_stop = fields.Integer(required=True)
    lines = fields.List(fields.Nested(HotLineSchema), required=True)
    stops = fields.List(fields.Nested(HotStopSchema), required=True)
