"""The audit log as the admin reads it."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import BaseSchema
from schemas.fields import UtcDateTime


class AuditEntrySchema(BaseSchema):
    id = fields.Integer(required=True)
    at = UtcDateTime(required=True)
    actor = fields.String(required=True)
    role = fields.String(required=True)
    scope = fields.String(required=True)
    action = fields.String(required=True, metadata={"example": "incident.read"})
    resource_type = fields.String(required=True)
    resource_id = fields.String(allow_none=True, required=True)
    address = fields.String(allow_none=True, required=True)
    request_id = fields.String(allow_none=True, required=True)
    detail = fields.Dict(required=True)


class AuditPageSchema(BaseSchema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)


class AuditArgsSchema(BaseSchema):
    actor = fields.String(validate=validate.Length(max=200))
    action = fields.String(validate=validate.Length(max=64))
    resource_id = fields.String(validate=validate.Length(max=64))
    since = UtcDateTime()
    until = UtcDateTime()
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 5000))
