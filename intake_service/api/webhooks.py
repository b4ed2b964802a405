"""An operator's webhook: where status changes of its incidents are POSTed, and how that went."""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import abort

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.feed import webhooks
from intake_service.intake import submission
from intake_service.serving.context import database
from schemas.webhook import (
    DeliveryArgsSchema,
    DeliveryPageSchema,
    WebhookRequestSchema,
    WebhookSchema,
)

blp = ApiBlueprint(
    "webhook",
    __name__,
    url_prefix="/api/v1/webhook",
    description="Your webhook for status changes, and its deliveries.",
)


def _document(webhook: Any, secret: str | None) -> dict[str, Any]:
    document = {"url": webhook.url, "created_at": webhook.created_at}
    if secret is not None:
        document["secret"] = secret
        document["standard_webhooks_secret"] = webhooks.standard_secret(secret)
    return document


@blp.route("")
class Webhook(MethodView):
    @require("webhook.manage")
    @blp.arguments(WebhookRequestSchema)
    @blp.response(200, WebhookSchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Register or change your webhook URL

        The first registration answers the signing ``secret``, once, also as
        ``standard_webhooks_secret`` (``whsec_…``): each POST is signed the Standard
        Webhooks way (``webhook-id``, ``webhook-timestamp``, ``webhook-signature:
        v1,<base64 HMAC-SHA256(secret, id + "." + timestamp + "." + body)>``), and, for one
        release, with ``X-Intake-Signature: sha256=HMAC(secret, timestamp + "." + body)``
        and ``X-Intake-Timestamp``.
        """
        config = current_app.extensions["intake.config"]
        try:
            with database().transaction() as session:
                operator = submission.operator_of(session, current_principal())
                webhook, secret = webhooks.register(
                    session,
                    current_principal(),
                    operator.id,
                    body["url"],
                    now=g.now,
                    allow_private=config.webhook_allow_private,
                )
                return _document(webhook, secret)
        except webhooks.WebhookRefused as exc:
            abort(422, errors=[{"field": "url", "message": str(exc)}])

    @require("webhook.manage")
    @blp.response(200, WebhookSchema)
    def get(self) -> Any:
        """Your webhook"""
        with database().transaction() as session:
            operator = submission.operator_of(session, current_principal())
            webhook = session.get(webhooks.Webhook, operator.id)
            if webhook is None:
                abort(404, message="No webhook registered.")
            return _document(webhook, None)

    @require("webhook.manage")
    @blp.response(204)
    def delete(self) -> None:
        """Remove your webhook"""
        with database().transaction() as session:
            operator = submission.operator_of(session, current_principal())
            if not webhooks.unregister(session, operator.id):
                abort(404, message="No webhook registered.")


@blp.route("/deliveries")
class Deliveries(MethodView):
    @require("webhook.manage")
    @blp.arguments(DeliveryArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, DeliveryPageSchema)
    def get(self, limit: int, state: str | None = None) -> Any:
        """Deliveries to your webhook, newest first: pending, delivered or failed"""
        with database().transaction() as session:
            operator = submission.operator_of(session, current_principal())
            found = webhooks.deliveries(session, operator.id, state, limit)
            return {"items": [webhooks.delivery_document(delivery) for delivery in found]}
