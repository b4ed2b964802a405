"""Field types the sheet needs beyond marshmallow's own: E.164 phones, UTC instants."""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers
from marshmallow import ValidationError, fields

# French national numbers ("06 12 34 56 78") are read as French; any other
# country must be written in international form ("+32 …").
DEFAULT_PHONE_REGION = "FR"


def normalise_phone(raw: str) -> str:
    """Return ``raw`` in E.164, or raise ValueError with a message for the caller."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Not a valid phone number (E.164 or French national format).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 instant that must carry its offset; kept and written in UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if isinstance(value, str) and len(value) > 40:
            raise ValidationError("Not a valid datetime.")
        moment = super()._deserialize(value, attr, data, **kwargs)
        return moment.astimezone(dt.UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC)
        text = super()._serialize(value, attr, obj, **kwargs)
        return None if text is None else str(text)
