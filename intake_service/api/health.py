"""Health checks: ``/healthz`` (the process answers) and ``/readyz`` (its dependencies do)."""

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
    status = fields.String(required=True, metadata={"example": "ok"})
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
    @blp.alt_response(503, schema=HealthSchema, description="A dependency is unreachable")
    @blp.doc(security=[])
    def get(self) -> Any:
        """The database and the broker are reachable"""
        config = current_app.extensions["intake.config"]
        checks = {
            "database": check_database(current_app.extensions["intake.db"]),
            "broker": check_broker(config.broker_url),
        }
        ready = all(result == "ok" for result in checks.values())
        return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
