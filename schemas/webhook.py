"""Webhook registration and delivery records."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import BaseSchema
from schemas.fields import UtcDateTime


class WebhookRequestSchema(BaseSchema):
    url = fields.Url(required=True, schemes={"http", "https"}, validate=validate.Length(max=2000))


class WebhookSchema(BaseSchema):
    url = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    secret = fields.String(
        metadata={"description": "Only in the answer to the first registration."}
    )
    standard_webhooks_secret = fields.String(
        metadata={
            "description": "The same secret as Standard Webhooks libraries take it "
            "(whsec_ + base64); only in the answer to the first registration."
        }
    )


class DeliverySchema(BaseSchema):
    id = fields.Integer(required=True)
    incident_id = fields.String(required=True)
    state = fields.String(
        required=True, validate=validate.OneOf(("pending", "delivered", "failed"))
    )
    attempts = fields.Integer(required=True)
    next_attempt_at = UtcDateTime(required=True)
    last_status_code = fields.Integer(allow_none=True, required=True)
    last_error = fields.String(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    delivered_at = UtcDateTime(allow_none=True, required=True)
    payload = fields.Dict(required=True)


class DeliveryPageSchema(BaseSchema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)


class DeliveryArgsSchema(BaseSchema):
    state = fields.String(validate=validate.OneOf(("pending", "delivered", "failed")))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
