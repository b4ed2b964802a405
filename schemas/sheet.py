"""The common incident sheet, version 1 (``shared/domain/incident-sheet.md``).

Field types and enums are declared on the fields; the rules that tie fields
together are in ``SheetSchema.check_cross_field_rules`` so that every offending
field is reported at once, each at its own path.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas import vocabulary as v
from schemas.base import BaseSchema
from schemas.fields import FullMatch, PhoneNumber, StrictBoolean, StrictFloat, UtcDateTime
from schemas.territory import is_in_france

FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# Six years: the prosecution limit for délits.
MAX_AGE_YEARS = 6
IN_PROGRESS_MAX_AGE = dt.timedelta(minutes=60)

_reference_time: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar(
    "sheet_reference_time", default=None
)


@contextlib.contextmanager
def evaluated_at(moment: dt.datetime) -> Iterator[None]:
    """Check the sheet's time bounds against ``moment`` instead of the clock.

    Amendments are checked against the time the sheet was received, and tests
    against a clock they control.
    """
    token = _reference_time.set(moment)
    try:
        yield
    finally:
        _reference_time.reset(token)


def set_reference_time(moment: dt.datetime) -> contextvars.Token[dt.datetime | None]:
    """Like ``evaluated_at``, for callers that cannot wrap a block (a web request)."""
    return _reference_time.set(moment)


def reset_reference_time(token: contextvars.Token[dt.datetime | None]) -> None:
    _reference_time.reset(token)


def reference_time() -> dt.datetime:
    """The instant the time bounds are checked against."""
    return _reference_time.get() or dt.datetime.now(dt.UTC)


def _one_of(values: tuple[Any, ...]) -> validate.OneOf:
    return validate.OneOf(values, error="Must be one of: {choices}.")


def _not_blank(min_length: int) -> Any:
    def check(value: str) -> None:
        if len(value.strip()) < min_length:
            raise ValidationError(f"Must hold at least {min_length} characters besides spaces.")

    return check


def _text(
    max_length: int, min_length: int = 1, *, validate_blank: bool = False, **kwargs: Any
) -> fields.String:
    checks: list[Any] = [validate.Length(min=min_length, max=max_length)]
    if validate_blank:
        checks.append(_not_blank(min_length))
    return fields.String(validate=checks, **kwargs)


def _unique(values: list[Any]) -> None:
    if len(values) != len(set(values)):
        raise ValidationError("Values must be unique.")


class ReporterSchema(BaseSchema):
    role = fields.String(required=True, validate=_one_of(v.REPORTER_ROLES))
    name = _text(100)
    callback_phone = PhoneNumber(
        metadata={"description": "E.164 or French national format; stored in E.164."}
    )


class CoordinatesSchema(BaseSchema):
    lat = StrictFloat(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lon = StrictFloat(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    accuracy_m = StrictFloat(allow_nan=False, validate=validate.Range(0, 100_000))
    source = fields.String(required=True, validate=_one_of(v.COORDINATE_SOURCES))

    @validates_schema(skip_on_field_errors=True)
    def check_in_france(self, data: dict[str, Any], **_: Any) -> None:
        if not is_in_france(data["lat"], data["lon"]):
            raise ValidationError("The point is not in France (WGS84 lat/lon).", "lat")


class LocationSchema(BaseSchema):
    mode = fields.Integer(
        required=True,
        strict=True,
        validate=_one_of(v.MODES),
        metadata={"description": "GTFS route_type"},
    )
    place = fields.String(required=True, validate=_one_of(v.PLACES))
    route_id = _text(64)
    direction_id = fields.Integer(strict=True, validate=_one_of((0, 1)))
    headsign = _text(100)
    stop_id = _text(64)
    previous_stop_id = _text(64)
    next_stop_id = _text(64)
    vehicle_id = _text(64)
    vehicle_position = fields.String(validate=_one_of(v.VEHICLE_POSITIONS))
    coordinates = fields.Nested(CoordinatesSchema)
    insee_code = fields.String(
        validate=FullMatch(
            r"\d{5}|2[AB]\d{3}",
            error="An INSEE commune code has 5 characters (2A/2B for Corsica).",
        )
    )
    address = _text(200)


class InjuriesSchema(BaseSchema):
    count = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10_000))
    severity = fields.String(required=True, validate=_one_of(v.SEVERITIES))


class SuspectsSchema(BaseSchema):
    count = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10_000))
    status = fields.String(required=True, validate=_one_of(v.SUSPECT_STATUSES))
    flight_direction = _text(200)
    description = _text(
        500,
        metadata={
            "description": "Clothing, build, distinguishing signs. Ethnic origin, religion and "
            "health are never recorded."
        },
    )
    weapon = fields.String(required=True, validate=_one_of(v.WEAPONS))


class ContactSchema(BaseSchema):
    name = _text(100, required=True)
    phone = PhoneNumber()
    email = fields.Email(validate=validate.Length(max=254))


class ConsentsSchema(BaseSchema):
    appointment_contact = StrictBoolean(load_default=False, dump_default=False)
    victim_support_referral = StrictBoolean(load_default=False, dump_default=False)
    use_work_address = StrictBoolean(load_default=False, dump_default=False)


class VictimSchema(BaseSchema):
    kind = fields.String(required=True, validate=_one_of(v.VICTIM_KINDS))
    staff_function = fields.String(validate=_one_of(v.STAFF_FUNCTIONS))
    on_duty = StrictBoolean()
    injury = fields.String(required=True, validate=_one_of(v.SEVERITIES))
    wants_to_file_complaint = fields.String(validate=_one_of(v.COMPLAINT_WISHES))
    contact = fields.Nested(ContactSchema)
    consents = fields.Nested(ConsentsSchema)


class VideoSchema(BaseSchema):
    exists = fields.String(required=True, validate=_one_of(v.VIDEO_EXISTS))
    sources = fields.List(
        fields.String(validate=_one_of(v.VIDEO_SOURCES)),
        validate=[validate.Length(min=1, max=len(v.VIDEO_SOURCES)), _unique],
    )
    erased_after = UtcDateTime(
        metadata={
            "description": "When the footage will be overwritten (public CCTV: one month at most)."
        }
    )


class ReferencesSchema(BaseSchema):
    alert_3117 = _text(64)
    police_case_number = _text(64)
    previous_operator_reference = _text(64)


class SheetSchema(BaseSchema):
    """The common incident sheet as an operator sends it."""

    operator_reference = _text(64, required=True)
    channel = fields.String(required=True, validate=_one_of(v.CHANNELS))
    reported_by = fields.Nested(ReporterSchema, required=True)
    occurred_at = UtcDateTime(required=True)
    state = fields.String(required=True, validate=_one_of(v.STATES))
    natures = fields.List(
        fields.String(validate=_one_of(v.NATURES)),
        required=True,
        validate=[validate.Length(min=1, max=5), _unique],
    )
    primary_nature = fields.String(required=True, validate=_one_of(v.NATURES))
    narrative = _text(4000, min_length=20, required=True, validate_blank=True)
    location = fields.Nested(LocationSchema, required=True)
    injuries = fields.Nested(InjuriesSchema, required=True)
    emergency_services_called = StrictBoolean(required=True)
    suspects = fields.Nested(SuspectsSchema, required=True)
    victims = fields.List(
        fields.Nested(VictimSchema), required=True, validate=validate.Length(min=0, max=20)
    )
    witnesses_count = fields.Integer(strict=True, validate=validate.Range(0, 10_000))
    video = fields.Nested(VideoSchema, required=True)
    references = fields.Nested(ReferencesSchema)

    # Field errors do not hide the cross-field ones: the caller learns everything
    # wrong with the sheet in one answer. Values are read from what loaded cleanly;
    # presence from what was sent, so a field sent with a bad value is reported
    # once (its own error), not also as "required".
    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def check_cross_field_rules(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        errors = sheet_rule_errors(
            data, reference_time(), original if isinstance(original, dict) else {}
        )
        if errors:
            raise ValidationError(errors)


def _add(errors: dict[str, Any], path: str, message: str) -> None:
    """Add ``message`` at ``path``; a message on an object goes to its ``_schema``."""
    node = errors
    for part in path.split("."):
        key: Any = int(part) if part.isdigit() else part
        child = node.get(key)
        if isinstance(child, list):
            child = node[key] = {"_schema": child}
        node = node.setdefault(key, {}) if child is None else child
    node.setdefault("_schema", []).append(message)


def _years_before(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


class _Given:
    """What the caller sent (presence), beside what loaded cleanly (values)."""

    def __init__(self, loaded: Any, original: Any) -> None:
        self.loaded = loaded if isinstance(loaded, dict) else {}
        self.original = original if isinstance(original, dict) else {}

    def __contains__(self, key: str) -> bool:
        return key in self.loaded or self.original.get(key) is not None

    def get(self, key: str) -> Any:
        return self.loaded.get(key)

    def child(self, key: str) -> _Given:
        return _Given(self.loaded.get(key), self.original.get(key))


def sheet_rule_errors(
    sheet: dict[str, Any], now: dt.datetime, original: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The cross-field rules of the sheet, as a nested error dict (empty when none).

    ``sheet`` holds the values that loaded cleanly; ``original`` is what was sent
    (defaults to ``sheet``), used to tell "missing" from "sent but invalid".
    """
    errors: dict[str, Any] = {}
    given = _Given(sheet, sheet if original is None else original)
    state = sheet.get("state")
    occurred_at = sheet.get("occurred_at")

    if isinstance(occurred_at, dt.datetime):
        if occurred_at > now + FUTURE_TOLERANCE:
            _add(errors, "occurred_at", "Must not be more than 5 minutes in the future.")
        elif occurred_at < _years_before(now, MAX_AGE_YEARS):
            _add(errors, "occurred_at", "Must not be older than 6 years (prosecution limit).")
        elif state == "in_progress" and occurred_at < now - IN_PROGRESS_MAX_AGE:
            _add(
                errors,
                "state",
                "An incident in progress must have occurred within the last 60 minutes; "
                "use 'just_happened' or 'over'.",
            )

    natures = sheet.get("natures")
    primary = sheet.get("primary_nature")
    if isinstance(natures, list) and primary is not None and primary not in natures:
        _add(errors, "primary_nature", "Must be one of the sheet's natures.")

    if (
        state == "in_progress"
        and "reported_by" in given
        and "callback_phone" not in given.child("reported_by")
    ):
        _add(errors, "reported_by.callback_phone", "Required when the incident is in progress.")

    if "location" in given:
        _location_rules(given.child("location"), state, errors)

    injuries = sheet.get("injuries")
    if (
        isinstance(injuries, dict)
        and "count" in injuries
        and "severity" in injuries
        and (injuries["count"] == 0) != (injuries["severity"] == "none")
    ):
        _add(errors, "injuries.count", "Must be 0 if and only if the severity is 'none'.")

    suspects = given.child("suspects")
    status = suspects.get("status")
    if status == "fled" and "flight_direction" not in suspects:
        _add(errors, "suspects.flight_direction", "Required when the suspects fled.")
    if status in ("on_site", "fled", "held_by_staff") and suspects.get("count") == 0:
        _add(errors, "suspects.count", f"Must be at least 1 when the suspects are '{status}'.")

    victims = sheet.get("victims")
    original_victims = given.original.get("victims")
    if isinstance(victims, list) and isinstance(original_victims, list):
        for index, victim in enumerate(victims):
            if isinstance(victim, dict) and index < len(original_victims):
                _victim_rules(_Given(victim, original_victims[index]), f"victims.{index}", errors)

    video = given.child("video")
    if video.get("exists") == "yes":
        for key in ("sources", "erased_after"):
            if key not in video:
                _add(errors, f"video.{key}", "Required when video exists.")
    elif video.get("exists") == "no":
        for key in ("sources", "erased_after"):
            if key in video:
                _add(errors, f"video.{key}", "Must not be given when there is no video.")
    return errors


def _location_rules(location: _Given, state: Any, errors: dict[str, Any]) -> None:
    on_board = location.get("place") == "on_board"
    between_stops = "previous_stop_id" in location or "next_stop_id" in location
    if between_stops:
        if location.get("place") not in (None, "on_board"):
            _add(
                errors, "location.previous_stop_id", "Only for an incident on board between stops."
            )
        elif "stop_id" in location:
            _add(
                errors, "location.stop_id", "Give either stop_id or previous/next stops, not both."
            )
        for key in ("previous_stop_id", "next_stop_id"):
            if key not in location:
                _add(errors, f"location.{key}", "Previous and next stops go together.")
    routable = ("stop_id", "previous_stop_id", "next_stop_id", "coordinates", "insee_code")
    if not any(key in location for key in routable):
        _add(
            errors,
            "location",
            "Give at least one of stop_id, coordinates or insee_code so the sheet can be routed.",
        )
    if on_board:
        for key in ("route_id", "vehicle_id"):
            if key not in location:
                _add(errors, f"location.{key}", "Required when the incident is on board.")
    if state == "in_progress" and "coordinates" not in location:
        _add(errors, "location.coordinates", "Required when the incident is in progress.")


def _victim_rules(victim: _Given, path: str, errors: dict[str, Any]) -> None:
    staff_only = ("staff_function", "on_duty", "wants_to_file_complaint")
    if victim.get("kind") == "staff":
        for key in staff_only:
            if key not in victim:
                _add(errors, f"{path}.{key}", "Required for a staff victim.")
    elif victim.get("kind") is not None:
        for key in staff_only:
            if key in victim:
                _add(errors, f"{path}.{key}", "Only for a staff victim.")
    if victim.get("wants_to_file_complaint") == "yes" and "contact" not in victim:
        _add(errors, f"{path}.contact", "Required when the victim wants to file a complaint.")
    contact = victim.child("contact")
    if "contact" in victim and not ("phone" in contact or "email" in contact):
        _add(errors, f"{path}.contact.phone", "Give a phone or an email.")


# An amendment: any subset of the sheet's top-level keys (RFC 7396 merge patch).
# Nested objects are merged key by key, lists are replaced, ``null`` removes an
# optional key; the merged sheet is then checked as a whole with ``SheetSchema``.
# One Raw field per key: unknown keys are refused here already, and the OpenAPI
# document lists what may be amended. ``operator_reference`` never changes.
SheetPatchSchema = BaseSchema.from_dict(
    {
        name: fields.Raw(allow_none=True, metadata={"description": f"New value for `{name}`."})
        for name in SheetSchema._declared_fields
        if name != "operator_reference"
    },
    name="SheetPatch",
)
