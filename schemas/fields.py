"""Field types the sheet needs beyond marshmallow's own: E.164 phones, UTC instants."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import phonenumbers
from marshmallow import ValidationError, fields, validate

# National numbers ("06 12 34 56 78") are read as metropolitan French first, then
# as the overseas territories' (a Réunion mobile is "0692 …"); any other country
# must be written in international form ("+32 …").
NATIONAL_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF", "NC", "PF", "WF")


def normalise_phone(raw: str) -> str:
    """Return ``raw`` in E.164, or raise ValueError with a message for the caller."""
    for region in NATIONAL_REGIONS:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException as exc:
            raise ValueError("Not a phone number.") from exc
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if raw.lstrip().startswith("+"):
            break  # international form: the region does not matter
    raise ValueError("Not a valid phone number (E.164 or French national format).")


class PhoneNumber(fields.String):
    """A phone number given in E.164 or French national format, stored in E.164."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 32:
            raise ValidationError("Not a phone number.")
        try:
            return normalise_phone(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class FullMatch(validate.Regexp):
    """The whole value matches ``pattern``.

    Documented in OpenAPI as ``^(?:pattern)$``, which every regex engine reads the
    same way; checked with ``fullmatch``, so a trailing newline does not slip
    through as it would with Python's ``$``.
    """

    def __init__(self, pattern: str, error: str | None = None) -> None:
        super().__init__(f"^(?:{pattern})$", error=error)
        self.whole = re.compile(pattern)

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or self.whole.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class StrictBoolean(fields.Boolean):
    """JSON ``true`` or ``false`` only: ``"yes"`` or ``1`` is a mistake worth naming."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Not a boolean (true or false).")
        return value


class StrictFloat(fields.Float):
    """A JSON number, not a string holding one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Not a number.")
        result: float = super()._deserialize(value, attr, data, **kwargs)
        return result


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 instant that must carry its offset; kept and written in UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if isinstance(value, str) and len(value) > 40:
            raise ValidationError("Not a valid datetime.")
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            # 9999-12-31T23:59:59-23:59 is after the last instant Python can hold in UTC.
            raise ValidationError("Not a valid datetime: out of range.") from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC)
        text = super()._serialize(value, attr, obj, **kwargs)
        return None if text is None else str(text)
