"""Incident intake for the GPO transports: the Flask application factory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from intake_service.intake.places import SharedCommunes
from intake_service.platform.clock import utc_now
from intake_service.platform.config import Config
from intake_service.platform.db import Database
from intake_service.platform.expiring import Expiring
from intake_service.territory.reference_cache import ReferenceCache
from schemas.sheet import reset_reference_time, set_reference_time

Clock = Callable[[], dt.datetime]


def create_app(
    config: Config | Mapping[str, Any] | None = None, *, clock: Clock = utc_now
) -> Flask:
    """Build the application.

    ``config`` is a Config, or overrides of the environment's settings (tests),
    or None to read the environment alone. ``clock`` is what "now" means.
    """
    if not isinstance(config, Config):
        config = Config.from_env().with_overrides(config or {})
    app = Flask(
        __name__,
        instance_path=str(config.instance_path),
        static_folder=None,  # pages serve theirs from intake_service/web/static
        template_folder="web/templates",
    )
    if config.trusted_proxy_hops:
        hops = config.trusted_proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    app.config.update(SECRET_KEY=config.secret_key, MAX_CONTENT_LENGTH=config.max_body_bytes)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the sheet's documented order
    config.instance_path.mkdir(parents=True, exist_ok=True)
    app.extensions["intake.config"] = config
    app.extensions["intake.db"] = Database.from_config(config)
    app.extensions["intake.clock"] = clock
    app.extensions["intake.principals"] = Expiring(config.token_cache_seconds)
    app.extensions["intake.reference"] = ReferenceCache(config.reference_cache_seconds)
    app.extensions["intake.communes"] = SharedCommunes(
        config.communes_cache_dir or config.instance_path
    )

    @app.before_request
    def fix_request_time() -> None:
        # One "now" per request: the time bounds of the sheet are checked against
        # the same instant the incident is stamped with.
        g.now = clock()
        g.reference_time_token = set_reference_time(g.now)

    @app.teardown_request
    def release_request_time(_error: BaseException | None) -> None:
        token = g.pop("reference_time_token", None)
        if token is not None:
            reset_reference_time(token)

    from intake_service.api import init_api
    from intake_service.serving.observability import init_observability
    from intake_service.serving.rate_limits import init_rate_limits
    from intake_service.web import init_web

    init_observability(app)
    init_rate_limits(app)
    init_api(app)
    init_web(app)
    return app
