"""What every HTTP request leaves behind: its request id, its metrics; and ``/metrics``."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, abort, g, request

from intake_service.access import audit
from intake_service.deployment import metrics
from intake_service.platform import logs

REQUEST_ID_HEADER = "X-Request-ID"


def init_observability(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        g.request_id = logs.new_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.request_id_token = logs.request_id.set(g.request_id)
        g.address_token = audit.client_address.set(request.remote_addr)

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        if "started" in g:
            metrics.HTTP_SECONDS.labels(route).observe(time.perf_counter() - g.started)
        return response

    @app.teardown_request
    def forget(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.request_id.reset(token)
        address = g.pop("address_token", None)
        if address is not None:
            audit.client_address.reset(address)

    def metrics_config() -> Any:
        config = app.extensions["intake.config"]
        if config.metrics_port and request.environ.get("SERVER_PORT") != str(config.metrics_port):
            # Not on the published port: what the deployment counts is its own business.
            abort(404)
        return config

    @app.get("/metrics")
    def prometheus() -> Any:
        """This instance's counters: no query, however many instances are scraped."""
        body = metrics.process_exposition(metrics_config())
        return Response(body, mimetype="text/plain; version=0.0.4")

    @app.get("/metrics/deployment")
    def prometheus_deployment() -> Any:
        """The gauges read from the database and broker, scraped through one target."""
        config = metrics_config()
        body = metrics.deployment_exposition(config, app.extensions["intake.db"])
        return Response(body, mimetype="text/plain; version=0.0.4")
