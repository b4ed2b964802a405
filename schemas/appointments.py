"""Bodies of the appointments API: stations' slots, appointments, requests and offers."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema
from schemas.fields import FullMatch, StrictBoolean, StrictFloat, UtcDateTime

HOUR = r"([01]\d|2[0-3]):[0-5]\d"
REQUEST_STATES = ("offered", "waiting", "booked", "declined", "cancelled")
APPOINTMENT_STATUSES = ("booked", "cancelled", "rescheduled", "honoured", "missed")


class StrictInteger(fields.Integer):
    """A JSON integer, not a string or a boolean."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        result: int = super()._deserialize(value, attr, data, **kwargs)
        return result


# --- slots ---------------------------------------------------------------------------------


class SlotSchema(BaseSchema):
    id = fields.Integer(required=True)
    station_code = fields.String(required=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    reserved = fields.Boolean(required=True)
    released_at = UtcDateTime(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    # The booked appointment holding it, if any.
    appointment_id = fields.Integer(allow_none=True)


class SlotPageSchema(BaseSchema):
    items = fields.List(fields.Nested(SlotSchema), required=True)


class RangeArgsSchema(BaseSchema):
    """A range of Paris dates; from today for 14 days when not given."""

    from_date = fields.Date(data_key="from", metadata={"description": "First day (Paris)."})
    to_date = fields.Date(data_key="to", metadata={"description": "Last day, included."})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        first, last = data.get("from_date"), data.get("to_date")
        if first and last and last < first:
            raise ValidationError("Must not be before 'from'.", "to")
        if first and last and (last - first).days > 366:
            raise ValidationError("At most 366 days.", "to")


class AppointmentArgsSchema(RangeArgsSchema):
    status = fields.List(fields.String(validate=validate.OneOf(APPOINTMENT_STATUSES)))


class OpeningSchema(BaseSchema):
    weekday = StrictInteger(
        required=True,
        validate=validate.Range(0, 6),
        metadata={"description": "0 = Monday … 6 = Sunday."},
    )
    start = fields.String(required=True, validate=FullMatch(HOUR, "An hour HH:MM."))
    end = fields.String(required=True, validate=FullMatch(HOUR, "An hour HH:MM."))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise ValidationError("Must be after the start.", "end")


SINGLE = ("starts_at", "ends_at", "reserved")
WEEKLY = ("start_date", "end_date", "weekly_hours", "slot_minutes", "reserved_share")


class SlotCreateSchema(BaseSchema):
    """One slot (``starts_at``, ``ends_at``, ``reserved``), or slots generated from weekly
    opening hours over a date range (``start_date``, ``end_date``, ``weekly_hours``,
    ``slot_minutes``, ``reserved_share``). Public holidays are skipped."""

    starts_at = UtcDateTime()
    ends_at = UtcDateTime()
    reserved = StrictBoolean(metadata={"description": "Reserved for priority appointments."})
    start_date = fields.Date()
    end_date = fields.Date()
    weekly_hours = fields.List(fields.Nested(OpeningSchema), validate=validate.Length(1, 50))
    slot_minutes = StrictInteger(validate=validate.Range(5, 480))
    reserved_share = StrictFloat(validate=validate.Range(0, 1))

    @validates_schema
    def _one_form(self, data: dict[str, Any], **_: Any) -> None:
        single = [key for key in SINGLE if key in data]
        weekly = [key for key in WEEKLY if key in data]
        if single and weekly:
            raise ValidationError(
                "Give one slot (starts_at, ends_at, reserved) or a generation "
                "(start_date, end_date, weekly_hours, slot_minutes, reserved_share), not both.",
                weekly[0],
            )
        wanted = SINGLE if single or not weekly else WEEKLY
        errors = {key: ["Missing data for required field."] for key in wanted if key not in data}
        if errors:
            raise ValidationError(errors)


class SlotCloseSchema(BaseSchema):
    pass


# --- appointments and requests ------------------------------------------------------------


class SlotRefSchema(BaseSchema):
    id = fields.Integer(required=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)


class VictimContactSchema(BaseSchema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    staff_function = fields.String(allow_none=True)


class AppointmentSchema(BaseSchema):
    id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    incident_id = fields.String(required=True)
    victim_index = fields.Integer(required=True)
    priority = fields.String(required=True)
    station_code = fields.String(required=True)
    slot = fields.Nested(SlotRefSchema, required=True)
    status = fields.String(required=True, validate=validate.OneOf(APPOINTMENT_STATUSES))
    booked_at = UtcDateTime(required=True)
    booked_by = fields.String(required=True)
    ended_at = UtcDateTime(allow_none=True)
    end_reason = fields.String(allow_none=True)
    # Only when reading one appointment (audited): who comes.
    victim = fields.Nested(VictimContactSchema)


class AppointmentPageSchema(BaseSchema):
    items = fields.List(fields.Nested(AppointmentSchema), required=True)


class RequestSchema(BaseSchema):
    id = fields.Integer(required=True)
    incident_id = fields.String(required=True)
    victim_index = fields.Integer(required=True)
    station_code = fields.String(allow_none=True)
    priority = fields.String(required=True)
    book_by = UtcDateTime(required=True)
    state = fields.String(required=True, validate=validate.OneOf(REQUEST_STATES))
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    appointments = fields.List(fields.Nested(AppointmentSchema))


class RequestPageSchema(BaseSchema):
    items = fields.List(fields.Nested(RequestSchema), required=True)


class DecisionSchema(BaseSchema):
    victim_index = fields.Integer(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("book", "offer", "none")))
    reason = fields.String(required=True)


class IncidentAppointmentsSchema(BaseSchema):
    incident_id = fields.String(required=True)
    decisions = fields.List(fields.Nested(DecisionSchema), required=True)
    requests = fields.List(fields.Nested(RequestSchema), required=True)


class ReasonSchema(BaseSchema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class RescheduleSchema(BaseSchema):
    slot_id = StrictInteger(required=True, validate=validate.Range(1, 2**31 - 1))
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class OutcomeSchema(BaseSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(("honoured", "missed")))


class AcceptSchema(BaseSchema):
    pass
