"""Health checks: ``/healthz`` (the process answers) and ``/readyz`` (it can accept a
sheet safely: its database answers).

The broker is reported, not required: while it is down the outbox keeps every accepted
sheet and the relay sends them when it is back, so an orchestrator must not pull the API
instances then. Its state is in ``/metrics`` and ``intake-service status`` too."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import fields

from intake_service.api.blueprint import ApiBlueprint
from intake_service.platform.health import check_broker, check_database
from schemas.base import BaseSchema

blp = ApiBlueprint("health", __name__, description="Liveness and readiness.")


class HealthSchema(BaseSchema):
    status = fields.String(
        required=True,
        metadata={
            "example": "ok",
            "enum": ["ok", "degraded", "unavailable"],
            "description": "degraded: the broker is unreachable, sheets wait in the outbox.",
        },
    )
    checks = fields.Dict(keys=fields.String(), values=fields.String())


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self) -> Any:
        """The process is up"""
        return {"status": "ok", "checks": {}}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
    @blp.doc(security=[])
    def get(self) -> Any:
        """The database is reachable (the broker's state is reported, not required)"""
        config = current_app.extensions["intake.config"]
        checks = {
            "database": check_database(current_app.extensions["intake.db"]),
            "broker": check_broker(config.broker_url),
        }
        if checks["database"] != "ok":
            return {"status": "unavailable", "checks": checks}, 503
        return {"status": "ok" if checks["broker"] == "ok" else "degraded", "checks": checks}, 200
