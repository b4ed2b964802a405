"""People's accounts for the pages: argon2 passwords, lock-out after repeated failures.

Same roles and scopes as API tokens (``access/rules/permissions.py``). Signing in through the
State's single sign-on (OpenID Connect) would replace ``sign_in`` and map the
identity provider's claims to a role and scope; the setting is reserved
(``OIDC_ISSUER``), the flow is not built.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal, check_scope
from intake_service.models import User
from intake_service.territory.operators import find_operator

MAX_FAILED_ATTEMPTS = 5
LOCK_OUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so that a wrong e-mail costs as much time
# as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """The account cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class SignIn:
    principal: Principal | None
    user_id: int | None = None
    # Why not, for the page: "bad_credentials" or "locked" (no more detail, on purpose).
    refusal: str | None = None
    locked_until: dt.datetime | None = None


def add_user(
    session: Session,
    email: str,
    password: str,
    role: str,
    scope: str,
    *,
    now: dt.datetime,
    supervisor: bool = False,
) -> User:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise AccountError(f"{email!r} is not an e-mail address.")
    problem = check_scope(role, scope)
    if problem:
        raise AccountError(problem)
    if role == "operator" and find_operator(session, scope) is None:
        raise AccountError(
            f"No operator {scope!r}: add it first with `intake-service operators add`."
        )
    if supervisor and role != "command_centre":
        raise AccountError("Only a command centre's account can be a supervisor.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise AccountError(f"{email} already has an account.")
    user = User(
        email=email,
        password_hash=_hasher.hash(password),
        role=role,
        scope=scope,
        created_at=now,
        failed_attempts=0,
        supervisor=supervisor,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        audit.COMMAND_LINE,
        "user.create",
        "user",
        str(user.id),
        now=now,
        detail={"role": role, "scope": scope},
    )
    return user


def principal_of(user: User) -> Principal:
    return Principal(
        role=user.role,
        scope=user.scope,
        actor=f"user:{user.id} ({user.email})",
        supervisor=bool(user.supervisor) and user.role == "command_centre",
    )


def sign_in(session: Session, email: str, password: str, *, now: dt.datetime) -> SignIn:
    """Check the password; count failures and lock the account after too many."""
    result = _sign_in(session, email, password, now=now)
    who = (
        result.principal
        if result.principal is not None
        else Principal(
            role="anonymous", scope="-", actor=f"sign-in as {email.strip().lower()[:150]}"
        )
    )
    action = "sign_in" if result.principal is not None else f"sign_in.{result.refusal}"
    audit.record(session, who, action, "user", str(result.user_id or ""), now=now)
    return result


def _sign_in(session: Session, email: str, password: str, *, now: dt.datetime) -> SignIn:
    user = session.scalar(
        select(User).where(func.lower(User.email) == email.strip().lower()).with_for_update()
    )
    if user is None or user.disabled_at is not None:
        _verify(_DUMMY_HASH, password)
        return SignIn(None, refusal="bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(None, refusal="locked", locked_until=user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
            user.locked_until = now + LOCK_OUT
            user.failed_attempts = 0
            return SignIn(None, refusal="locked", locked_until=user.locked_until)
        return SignIn(None, refusal="bad_credentials")
    user.failed_attempts = 0
    user.locked_until = None
    user.last_sign_in_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return SignIn(principal_of(user), user.id)


def user_principal(session: Session, user_id: int) -> Principal | None:
    """The principal of a signed-in user, or None if the account is gone or disabled."""
    user = session.get(User, user_id)
    if user is None or user.disabled_at is not None:
        return None
    return principal_of(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
