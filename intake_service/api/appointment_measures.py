"""``GET /api/v1/appointments/measures``: the appointment measures, per operator and station.

Each caller sees its own scope (``appointments.measures.measure``): an operator its
staff, a station officer its station, a GPO referent and the administrator all; a
filter outside the caller's scope answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError, fields, validates_schema

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.appointments import measures as appointment_measures
from schemas.base import BaseSchema
from schemas.fields import UtcDateTime

MAX_DAYS = 3 * 366

blp = ApiBlueprint(
    "appointment_measures",
    __name__,
    url_prefix="/api/v1",
    description="Measures of priority complaint appointments.",
)


class MeasuresArgsSchema(BaseSchema):
    from_ = fields.Date(
        data_key="from",
        metadata={"description": "First day (Paris time) of requests counted; 90 days ago."},
    )
    to = fields.Date(metadata={"description": "Last day (Paris time), included; today."})
    operator = fields.String(
        validate=lambda value: 0 < len(value) <= 32,
        metadata={"description": "An operator code (an operator sees only its own)."},
    )
    station = fields.String(
        validate=lambda value: 0 < len(value) <= 64,
        metadata={"description": "A police station code (an officer sees only its own)."},
    )

    @validates_schema
    def _check_range(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start is not None and end is not None:
            if end < start:
                raise ValidationError("The end is before the start.", "to")
            if (end - start).days > MAX_DAYS:
                raise ValidationError(f"At most {MAX_DAYS} days at once.", "to")


class MeasuresRowSchema(BaseSchema):
    key = fields.String(required=True, metadata={"description": "Operator or station code."})
    name = fields.String(required=True)
    eligible = fields.Integer(required=True, metadata={"description": "Eligible staff victims."})
    booked = fields.Integer(required=True)
    share_booked = fields.Float(allow_none=True, required=True)
    median_delay_hours = fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "Median hours from the request to the appointment's start."},
    )
    past = fields.Integer(required=True, metadata={"description": "Held appointments now past."})
    honoured = fields.Integer(required=True)
    missed = fields.Integer(required=True)
    share_honoured = fields.Float(allow_none=True, required=True)
    share_missed = fields.Float(allow_none=True, required=True)


class MeasuresSchema(BaseSchema):
    since = UtcDateTime(required=True, data_key="from")
    until = UtcDateTime(required=True, data_key="to")
    total = fields.Nested(MeasuresRowSchema, required=True)
    by_operator = fields.List(fields.Nested(MeasuresRowSchema), required=True)
    by_station = fields.List(fields.Nested(MeasuresRowSchema), required=True)


def report_document(report: appointment_measures.Report) -> dict[str, Any]:
    return {
        "since": report.since,
        "until": report.until,
        "total": report.total.document(),
        "by_operator": [row.document() for row in report.by_operator],
        "by_station": [row.document() for row in report.by_station],
    }


@blp.route("/appointments/measures")
class Measures(MethodView):
    @require("appointment.measures")
    @blp.arguments(MeasuresArgsSchema, location="query")
    @blp.response(200, MeasuresSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Appointment measures per operator and per station

        Share of eligible staff victims booked, median delay to the appointment
        (hours), share of past appointments honoured and missed. Requests created
        in the period (``from``/``to``, Paris days, ``to`` included) are counted.
        """
        since, until = appointment_measures.period(args.get("from_"), args.get("to"), g.now)
        try:
            with current_app.extensions["intake.db"].transaction() as session:
                report = appointment_measures.measure(
                    session,
                    current_principal(),
                    since,
                    until,
                    g.now,
                    operator=args.get("operator"),
                    station=args.get("station"),
                )
        except appointment_measures.OutOfScope:
            abort(404, message="No such operator or station in your scope.")
        return report_document(report)
