"""Bearer tokens: created once (the secret is shown once), kept as a hash, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal, check_scope
from intake_service.models import ApiToken
from intake_service.territory.operators import find_operator

TOKEN_PREFIX = "gpo_"  # noqa: S105 - a visible prefix, not a secret


class TokenError(ValueError):
    """The token cannot be created as asked; the message says why."""


def hash_token(secret: str) -> str:
    # Tokens carry 256 random bits: a plain SHA-256 is enough, no slow hash needed.
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str


def create_token(
    session: Session,
    role: str,
    scope: str,
    label: str,
    *,
    now: dt.datetime,
    secret: str | None = None,
) -> NewToken:
    """Create a token for ``role`` on ``scope``; ``secret`` is only given for demo data."""
    problem = check_scope(role, scope)
    if problem:
        raise TokenError(problem)
    if role == "operator" and find_operator(session, scope) is None:
        raise TokenError(
            f"No operator {scope!r}: add it first with "
            f"`intake-service operators add {scope} --name NAME`."
        )
    secret = secret or TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_token(secret),
        prefix=secret[:12],
        role=role,
        scope=scope,
        label=label,
        created_at=now,
        revoked_at=None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        audit.COMMAND_LINE,
        "token.create",
        "token",
        str(token.id),
        now=now,
        detail={"role": role, "scope": scope},
    )
    return NewToken(token, secret)


def principal_for(session: Session, secret: str) -> Principal | None:
    """The caller a bearer secret stands for, or None if unknown or revoked."""
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None:
        return None
    actor = f"token:{token.id}" + (f" ({token.label})" if token.label else "")
    return Principal(role=token.role, scope=token.scope, actor=actor)


def list_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.id)).all()


def revoke_token(session: Session, token_id: int, *, now: dt.datetime) -> ApiToken:
    token = session.get(ApiToken, token_id, with_for_update=True)
    if token is None:
        raise TokenError(f"No token with id {token_id} (see `intake-service tokens list`).")
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(session, audit.COMMAND_LINE, "token.revoke", "token", str(token.id), now=now)
    return token
