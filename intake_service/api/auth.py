"""Bearer-token authentication and the permission check, for API views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from flask_smorest import abort

from intake_service.access.rules.permissions import Principal, may
from intake_service.access.tokens import hash_token, principal_for
from intake_service.platform.expiring import Expiring

F = TypeVar("F", bound=Callable[..., Any])


def authenticate() -> Principal:
    """The caller of this request; aborts 401 when the token is missing or unknown."""
    cached = g.get("principal")
    if cached is not None:
        return cast(Principal, cached)
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > 200:
        abort(401, message="A bearer token is required (Authorization: Bearer <token>).")
    principal = _cached_principal(secret)
    if principal is None:
        abort(401, message="The token is unknown or revoked.")
    g.principal = principal
    return cast(Principal, principal)


def _cached_principal(secret: str) -> Principal | None:
    """The token's principal, read from the database at most every TOKEN_CACHE_SECONDS.

    Saves a transaction on every request; the price is that a revoked token
    keeps working in a process for up to that many seconds (0 disables).
    """
    cache: Expiring[str, Principal] = current_app.extensions["intake.principals"]
    key = hash_token(secret)
    cached = cache.get(key)
    if cached is not None:
        return cached[0]
    with current_app.extensions["intake.db"].transaction() as session:
        principal = principal_for(session, secret)
    if principal is not None:
        cache.put(key, principal)
    return principal


def require(action: str) -> Callable[[F], F]:
    """Authenticate, then check that the caller's role may attempt ``action`` (else 403)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if not may(principal, action):
                abort(403, message=f"The {principal.role} role may not do this ({action}).")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def current_principal() -> Principal:
    return cast(Principal, g.principal)
