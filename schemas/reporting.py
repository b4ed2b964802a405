"""The exports' query arguments (issue 16). Each wrong argument is named: ``from``,
``to`` (a date, or a period that ends before it starts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema

FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)
DATE_RANGE = validate.Range(min=FIRST_DATE, max=LAST_DATE, error="Must be between {min} and {max}.")


class IncidentExportArgsSchema(BaseSchema):
    date_from = fields.Date(
        data_key="from",
        validate=DATE_RANGE,
        metadata={"description": "First day (Paris time), included. Default: 30 days before `to`."},
    )
    date_to = fields.Date(
        data_key="to",
        validate=DATE_RANGE,
        metadata={"description": "Last day (Paris time), included. Default: today."},
    )

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        first, last = data.get("date_from"), data.get("date_to")
        if first is not None and last is not None and first > last:
            raise ValidationError(
                {
                    "from": [f"The period starts ({first}) after it ends ({last})."],
                    "to": [f"The period ends ({last}) before it starts ({first})."],
                }
            )
