"""The API bodies of GPO problems: scope, problem, transition, action, journal, GPO.

The scope document (``ScopeSchema``) decides which incidents belong to a
problem; every key is optional and an empty list or null means "any". Its
values are checked here (natures of the sheet's vocabulary, weekdays 0–6, hours
0–23, a point in France with a radius of 50–5000 m, at most 200 stops or lines);
whether a partner belongs to the GPO is checked by the use case.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas import vocabulary as v
from schemas.base import BaseSchema
from schemas.fields import FullMatch, StrictBoolean, StrictFloat, UtcDateTime
from schemas.territory import is_in_france

PROBLEM_STATES = v.PROBLEM_STATES
INITIAL_STATES = v.INITIAL_PROBLEM_STATES
ACTION_STATUSES = v.ACTION_STATUSES
# What a person writes in the journal; the service adds state_change, action, link, change.
WRITTEN_JOURNAL_KINDS = ("meeting", "decision", "note")
JOURNAL_KINDS = (*WRITTEN_JOURNAL_KINDS, "state_change", "action", "link", "change")
MAX_PLACES = 200
MAX_VERSION = 2**31 - 1
RADIUS_MIN_M = 50
RADIUS_MAX_M = 5000
CODE = r"[a-z0-9][a-z0-9_-]{0,63}"
GTFS_ID = r"[^\x00-\x1f]{1,64}"


class ScopeDate(fields.Date):
    """A date; a stored scope already holds it as ISO text, written back as it is."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return value
        return super()._serialize(value, attr, obj, **kwargs)


def _one_of(values: tuple[Any, ...]) -> validate.OneOf:
    return validate.OneOf(values, error="Must be one of: {choices}.")


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def _unique(values: list[Any]) -> None:
    keys = [tuple(sorted(value.items())) if isinstance(value, dict) else value for value in values]
    if len(keys) != len(set(keys)):
        raise ValidationError("Values must be unique.")


def _code(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=FullMatch(CODE, error="A code: lowercase letters, digits, - and _."), **kwargs
    )


def _list(inner: Any, maximum: int) -> fields.List:
    return fields.List(
        inner,
        validate=[
            validate.Length(max=maximum, error=f"At most {maximum} values."),
            _unique,
        ],
    )


class RouteRefSchema(BaseSchema):
    operator = _code(required=True)
    route_id = fields.String(required=True, validate=FullMatch(GTFS_ID, error="A GTFS route_id."))


class StopRefSchema(BaseSchema):
    operator = _code(required=True)
    stop_id = fields.String(required=True, validate=FullMatch(GTFS_ID, error="A GTFS stop_id."))


class ScopePointSchema(BaseSchema):
    lat = StrictFloat(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lon = StrictFloat(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    radius_m = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(
            RADIUS_MIN_M, RADIUS_MAX_M, error=f"From {RADIUS_MIN_M} to {RADIUS_MAX_M} metres."
        ),
    )

    # Also when the radius is wrong: every error of the point at once.
    @validates_schema(skip_on_field_errors=False)
    def check_in_france(self, data: dict[str, Any], **_: Any) -> None:
        if "lat" in data and "lon" in data and not is_in_france(data["lat"], data["lon"]):
            raise ValidationError("The point is not in France (WGS84 lat/lon).", "lat")


class HoursSchema(BaseSchema):
    """Hours of the day in Paris time; ``to`` is exclusive and may wrap past midnight."""

    from_ = fields.Integer(
        data_key="from",
        attribute="from",
        required=True,
        strict=True,
        validate=validate.Range(0, 23, error="An hour from 0 to 23."),
    )
    to = fields.Integer(
        required=True, strict=True, validate=validate.Range(0, 23, error="An hour from 0 to 23.")
    )

    @validates_schema(skip_on_field_errors=True)
    def check_not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if data["from"] == data["to"]:
            raise ValidationError(
                "from and to must differ (to is exclusive; leave hours out for any hour).", "to"
            )


class ScopeSchema(BaseSchema):
    """Which incidents belong to a problem; routes, stops and point are alternatives."""

    operators = _list(_code(), MAX_PLACES)
    routes = _list(fields.Nested(RouteRefSchema), MAX_PLACES)
    stops = _list(fields.Nested(StopRefSchema), MAX_PLACES)
    point = fields.Nested(ScopePointSchema, allow_none=True)
    natures = _list(fields.String(validate=_one_of(v.NATURES)), len(v.NATURES))
    weekdays = _list(
        fields.Integer(strict=True, validate=validate.Range(0, 6, error="0 (Monday) to 6.")), 7
    )
    hours = fields.Nested(HoursSchema, allow_none=True)
    start_date = ScopeDate(allow_none=True)


def _title(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=200), _not_blank], **kwargs)


def _description(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=5000), **kwargs)


def _partners() -> fields.List:
    return _list(_code(), 50)


class ProblemCreateSchema(BaseSchema):
    title = _title(required=True)
    description = _description(load_default="")
    scope = fields.Nested(ScopeSchema, load_default=dict)
    partners = _partners()
    state = fields.String(
        validate=_one_of(INITIAL_STATES),
        metadata={"description": "Where it starts (default reported)."},
    )


class ProblemUpdateSchema(BaseSchema):
    """A change to a problem (PATCH): only the keys given change; the scope is replaced whole."""

    title = _title()
    description = _description()
    scope = fields.Nested(ScopeSchema)
    partners = _partners()
    version = fields.Integer(
        strict=True,
        validate=validate.Range(1, MAX_VERSION),
        metadata={"description": "The version you changed (or send If-Match); 409 if stale."},
    )


class GpoProblemSchema(BaseSchema):
    """A GPO problem as the API answers it (the error body is ``schemas.problem_details``)."""

    id = fields.String()
    gpo_code = fields.String()
    title = fields.String()
    description = fields.String()
    state = fields.String(validate=_one_of(PROBLEM_STATES))
    effective_state = fields.String(
        metadata={"description": "The state it counts as: a watch run out counts as closed."}
    )
    state_reason = fields.String(allow_none=True)
    allowed_transitions = fields.List(fields.String())
    referent = fields.String()
    partners = fields.List(fields.String())
    scope = fields.Nested(ScopeSchema)
    watch_until = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    version = fields.Integer()


class ProblemListArgsSchema(BaseSchema):
    state = fields.List(fields.String(validate=_one_of(PROBLEM_STATES)))


class ProblemListSchema(BaseSchema):
    items = fields.List(fields.Nested(GpoProblemSchema))


class TransitionSchema(BaseSchema):
    to = fields.String(required=True, validate=_one_of(PROBLEM_STATES))
    reason = fields.String(
        validate=validate.Length(max=2000),
        allow_none=True,
        metadata={"description": "Required for not_resolved, abandoned and out_of_scope."},
    )
    version = fields.Integer(strict=True, validate=validate.Range(1, MAX_VERSION))


def _check_dates(data: dict[str, Any]) -> None:
    starts, due = data.get("starts_on"), data.get("due_on")
    if starts is not None and due is not None and due < starts:
        raise ValidationError("The due date is before the start date.", "due_on")


class ActionSchema(BaseSchema):
    """An action of the plan: what, which partner, when; a police action's service order."""

    what = fields.String(required=True, validate=[validate.Length(min=1, max=2000), _not_blank])
    owner_partner = _code(required=True)
    starts_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    status = fields.String(load_default="planned", validate=_one_of(ACTION_STATUSES))
    service_order_reference = fields.String(allow_none=True, validate=validate.Length(max=64))

    @validates_schema(skip_on_field_errors=True)
    def check_dates(self, data: dict[str, Any], **_: Any) -> None:
        _check_dates(data)


class ActionUpdateSchema(BaseSchema):
    what = fields.String(validate=[validate.Length(min=1, max=2000), _not_blank])
    owner_partner = _code()
    starts_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    status = fields.String(validate=_one_of(ACTION_STATUSES))
    service_order_reference = fields.String(allow_none=True, validate=validate.Length(max=64))

    @validates_schema(skip_on_field_errors=True)
    def check_dates(self, data: dict[str, Any], **_: Any) -> None:
        _check_dates(data)


class ActionOutSchema(BaseSchema):
    id = fields.Integer()
    problem_id = fields.String()
    what = fields.String()
    owner_partner = fields.String()
    starts_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    status = fields.String()
    service_order_reference = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class ActionListSchema(BaseSchema):
    items = fields.List(fields.Nested(ActionOutSchema))


class JournalEntrySchema(BaseSchema):
    """A meeting, a decision or a note. Meetings and decisions are shown to the partners:
    they must hold no personal data (no names of victims, witnesses or suspects)."""

    kind = fields.String(required=True, validate=_one_of(WRITTEN_JOURNAL_KINDS))
    text = fields.String(required=True, validate=[validate.Length(min=1, max=5000), _not_blank])
    at = UtcDateTime(metadata={"description": "When it happened (default: now)."})


class JournalEntryOutSchema(BaseSchema):
    id = fields.Integer()
    at = UtcDateTime()
    kind = fields.String()
    text = fields.String()
    author = fields.String()
    detail = fields.Dict()


class JournalSchema(BaseSchema):
    items = fields.List(fields.Nested(JournalEntryOutSchema))


class PartnerSchema(BaseSchema):
    code = fields.String()
    name = fields.String()


class GpoSchema(BaseSchema):
    code = fields.String()
    name = fields.String()
    services = fields.List(fields.String())
    operators = fields.List(fields.String())
    auto_confirm_strong = StrictBoolean()
    department = fields.String(
        allow_none=True, metadata={"description": "The département it reports to (31, 2A)."}
    )
    status = fields.String(metadata={"enum": ["deployed", "in_creation"]})
    meeting_rhythm = fields.String(metadata={"enum": ["fortnightly", "monthly", "dates"]})
    partners = fields.List(fields.Nested(PartnerSchema))
