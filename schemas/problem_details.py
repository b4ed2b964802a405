"""The one error body of the API: RFC 9457 ``application/problem+json``."""

from marshmallow import fields

from schemas.base import BaseSchema


class FieldErrorSchema(BaseSchema):
    field = fields.String(required=True, metadata={"example": "location.coordinates.lat"})
    message = fields.String(required=True)


class ProblemSchema(BaseSchema):
    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema))
    location = fields.String(metadata={"description": "The existing incident (409)."})
