"""The API bodies of links between incidents and GPO problems, and emerging problems.

An incident appears here only by its summary: time, place by name, natures, priority.
Narratives, names, contacts and suspect descriptions are on the incident's detail only.
"""

from __future__ import annotations

from marshmallow import fields, validate

from schemas import vocabulary as v
from schemas.base import BaseSchema
from schemas.fields import UtcDateTime

LINK_STATES = ("proposed", "confirmed", "rejected", "unlinked")
LINK_ORIGINS = ("matcher", "manual", "automatic")
NATURE_FAMILIES = (
    "persons",
    "property",
    "projectile",
    "drugs",
    "weapons",
    "fraud",
    "incivility",
    "other",
)
INCIDENT_ID = r"^[0-9a-fA-F-]{1,36}$"


class LinkReasonSchema(BaseSchema):
    dimension = fields.String()
    text = fields.String()


class LinkedIncidentSchema(BaseSchema):
    """An incident without personal data. A partner gets only ``occurred_on``, ``stop``
    and ``natures``, as in the partners' brief."""

    id = fields.String()
    operator = fields.String()
    occurred_at = UtcDateTime()
    stop_id = fields.String(allow_none=True)
    stop_name = fields.String(allow_none=True)
    route_id = fields.String(allow_none=True)
    route_name = fields.String(allow_none=True)
    place = fields.String(allow_none=True)
    natures = fields.List(fields.String(validate=validate.OneOf(v.NATURES)))
    primary_nature = fields.String()
    priority = fields.String()
    status = fields.String()
    occurred_on = fields.Date(metadata={"description": "Partners: the day, in Paris time."})
    stop = fields.String(metadata={"description": "Partners: the stop's name, or the commune."})


class LinkSchema(BaseSchema):
    problem_id = fields.String()
    problem_title = fields.String()
    incident_id = fields.String()
    state = fields.String(validate=validate.OneOf(LINK_STATES))
    origin = fields.String(validate=validate.OneOf(LINK_ORIGINS))
    reasons = fields.List(fields.Nested(LinkReasonSchema))
    strong = fields.Boolean(metadata={"description": "Same stop and same nature."})
    created_at = UtcDateTime()
    decided_at = UtcDateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)
    incident = fields.Nested(LinkedIncidentSchema)


class LinkListSchema(BaseSchema):
    items = fields.List(fields.Nested(LinkSchema))


class ManualLinkSchema(BaseSchema):
    incident_id = fields.String(
        required=True, validate=validate.Regexp(INCIDENT_ID, error="An incident id.")
    )


class RejectSchema(BaseSchema):
    reason = fields.String(validate=validate.Length(max=2000), load_default=None, allow_none=True)


class ClusterPointSchema(BaseSchema):
    lat = fields.Float()
    lon = fields.Float()
    radius_m = fields.Integer()


class EmergingSchema(BaseSchema):
    """A cluster of like incidents no open problem covers."""

    family = fields.String(validate=validate.OneOf(NATURE_FAMILIES))
    family_label = fields.String()
    operator = fields.String()
    stop_ids = fields.List(fields.String())
    point = fields.Nested(ClusterPointSchema, allow_none=True)
    place_label = fields.String()
    count = fields.Integer()
    first = UtcDateTime()
    last = UtcDateTime()
    incident_ids = fields.List(fields.String())
    incidents = fields.List(fields.Nested(LinkedIncidentSchema))


class EmergingListSchema(BaseSchema):
    items = fields.List(fields.Nested(EmergingSchema))


class ClusterProblemSchema(BaseSchema):
    """Open a problem from a suggestion: its family and incidents (as listed)."""

    family = fields.String(required=True, validate=validate.OneOf(NATURE_FAMILIES))
    incident_ids = fields.List(
        fields.String(validate=validate.Regexp(INCIDENT_ID, error="An incident id.")),
        required=True,
        validate=validate.Length(min=1, max=500),
    )
    title = fields.String(validate=validate.Length(min=1, max=200))


class CreatedProblemSchema(BaseSchema):
    id = fields.String()
    title = fields.String()
    state = fields.String()
    linked = fields.Integer()
