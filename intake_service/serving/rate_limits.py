"""Abuse limits on submission and sign-in (flask-limiter).

Counted in Redis when ``REDIS_URL`` is set (shared by every process), in memory
otherwise (the embedded mode). A breach answers 429 with ``Retry-After``. The
limits are settings: an operator's system on a riot night must not be throttled
below what it really sends, so the defaults are generous.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_smorest import abort

from intake_service.access.tokens import hash_token

F = TypeVar("F", bound=Callable[..., Any])


def init_rate_limits(app: Flask) -> None:
    config = app.extensions["intake.config"]
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=config.redis_url or "memory://",
        # No X-RateLimit headers on every answer: Retry-After goes on the 429 only.
        headers_enabled=False,
        strategy="moving-window",
    )
    app.extensions["intake.limiter"] = limiter


def _token_key() -> str:
    header = request.headers.get("Authorization", "")
    return "token:" + hash_token(header.partition(" ")[2].strip())[:32]


def _address_key() -> str:
    return "address:" + (get_remote_address() or "unknown")


def rate_limited(kind: str) -> Callable[[F], F]:
    """Apply the ``kind`` limits ("submission" or "sign_in") to a view's POSTs."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method != "POST":
                return view(*args, **kwargs)
            config = current_app.extensions["intake.config"]
            limiter: Limiter = current_app.extensions["intake.limiter"]
            per_token, per_address = (
                (config.rate_limit_submission, config.rate_limit_submission_address)
                if kind == "submission"
                else (None, config.rate_limit_sign_in)
            )
            checks = []
            if per_token:
                checks.append(limiter.limit(per_token, key_func=_token_key, scope=f"{kind}-token"))
            if per_address:
                checks.append(
                    limiter.limit(per_address, key_func=_address_key, scope=f"{kind}-address")
                )
            for check in checks:
                try:
                    with check:
                        pass
                except RateLimitExceeded as exc:
                    retry_after = str(int(exc.limit.limit.get_expiry()))
                    abort(
                        429,
                        message="Too many requests; retry later.",
                        headers={"Retry-After": retry_after},
                    )
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
