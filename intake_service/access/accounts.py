"""People's accounts for the pages: argon2 passwords, a growing wait after failed
sign-ins (``rules/sign_in_delay.py``), sessions the server can end (``rules/sessions.py``).

Same roles and scopes as API tokens (``access/rules/permissions.py``). Signing in through the
State's single sign-on (OpenID Connect) would replace ``sign_in`` and map the
identity provider's claims to a role and scope; the setting is reserved
(``OIDC_ISSUER``), the flow is not built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules import sign_in_delay
from intake_service.access.rules.permissions import Principal, check_scope
from intake_service.access.rules.sessions import session_holds
from intake_service.models import SignInFailure, User
from intake_service.territory.operators import find_operator

MIN_PASSWORD_LENGTH = 12
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so that a wrong e-mail costs as much time
# as a wrong password and does not reveal which accounts exist. Made by the same
# hasher, so with the same cost as the accounts' hashes.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """The account cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class SignIn:
    principal: Principal | None
    user_id: int | None = None
    # Why not, for the audit log only: "bad_credentials" or "delayed" (the attempt came
    # during a wait and was not checked). The page says the same for both, on purpose.
    refusal: str | None = None
    # Carried by the page session: bumping the account's ends the session.
    session_epoch: int = 0


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
        session_epoch=0,
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


def sign_in(
    session: Session, email: str, password: str, *, address: str, now: dt.datetime
) -> SignIn:
    """Check the password, unless ``address`` or the account must wait after failures
    (``rules/sign_in_delay.py``); count a failure against both."""
    result = _sign_in(session, email, password, address=address, now=now)
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


def _sign_in(
    session: Session, email: str, password: str, *, address: str, now: dt.datetime
) -> SignIn:
    # Every refusal looks and costs the same (issue 17): the same answer for an unknown
    # address, a wrong password, a disabled account or an attempt made during a wait;
    # one argon2 verification each time (a dummy hash for an unknown e-mail), and the
    # failures of an unknown e-mail counted like a real account's.
    email = email.strip().lower()
    same_email = func.lower(User.email) == email
    # The slow verification first, holding no lock, so that concurrent attempts on one
    # account or from one address wait for each other only for the short part below.
    stored_hash = session.scalar(select(User.password_hash).where(same_email))
    verified = _verify(stored_hash or _DUMMY_HASH, password)
    user = session.scalar(select(User).where(same_email).with_for_update())
    keys = {"address": _failure_key("address", address), "account": _failure_key("account", email)}
    counted = _failures(session, keys.values())
    checked = sign_in_delay.may_check(
        address=counted.get(keys["address"]), account=counted.get(keys["account"]), now=now
    )
    if not checked:
        # Not counted: hammering during the wait does not lengthen it.
        return SignIn(None, refusal="delayed")
    if user is None or user.disabled_at is not None or not verified:
        for key in keys.values():
            _count_failure(session, key, counted.get(key), now)
        return SignIn(None, refusal="bad_credentials")
    # The account's count starts again; the address's does not, or an attacker would
    # sign in to their own account to clear the address they spray others from.
    session.execute(delete(SignInFailure).where(SignInFailure.key == keys["account"]))
    user.last_sign_in_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return SignIn(principal_of(user), user.id, session_epoch=user.session_epoch)


def _failure_key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}"


def _failures(session: Session, keys: Iterable[str]) -> dict[str, sign_in_delay.Failures]:
    rows = session.scalars(
        select(SignInFailure)
        .where(SignInFailure.key.in_(list(keys)))
        .order_by(SignInFailure.key)  # locked in one order: no deadlock between attempts
        .with_for_update()
    )
    return {row.key: sign_in_delay.Failures(row.failures, row.last_failure_at) for row in rows}


def _count_failure(
    session: Session, key: str, known: sign_in_delay.Failures | None, now: dt.datetime
) -> None:
    """One failure more for ``key``; an upsert, as a first failure may race another."""
    failures = sign_in_delay.after_failure(known, now)
    values = {"failures": failures.count, "last_failure_at": failures.last_at}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SignInFailure)
        .values(key=key, **values)
        .on_conflict_do_update(index_elements=[SignInFailure.key], set_=values)
    )
    # Counts forgotten by the rule are of no use: keep the table to the last day's.
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.last_failure_at < now - sign_in_delay.FORGET_AFTER
        )
    )


def sign_out(
    session: Session,
    user_id: int,
    session_epoch: object,
    signed_in_at: object,
    *,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> None:
    """End every page session of the account, if this one still holds (a stale cookie
    must not sign the account's current sessions out)."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None or not _holds(user, session_epoch, signed_in_at, now, lifetime):
        return
    user.session_epoch += 1
    audit.record(session, principal_of(user), "sign_out", "user", str(user.id), now=now)


def session_principal(
    session: Session,
    user_id: int,
    session_epoch: object,
    signed_in_at: object,
    *,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> Principal | None:
    """The principal of a signed-in user's page session, or None if the account is gone
    or disabled, or the session was ended (sign-out, disabling) or is too old."""
    user = session.get(User, user_id)
    if user is None or not _holds(user, session_epoch, signed_in_at, now, lifetime):
        return None
    return principal_of(user)


def _holds(
    user: User,
    session_epoch: object,
    signed_in_at: object,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> bool:
    return user.disabled_at is None and session_holds(
        account_epoch=user.session_epoch,
        session_epoch=session_epoch,
        started_at=signed_in_at,
        now=now,
        lifetime=lifetime,
    )


def disable_user(session: Session, email: str, *, now: dt.datetime) -> tuple[User, bool]:
    """Disable an account: it cannot sign in and its page sessions end at once.
    Whether it changed (False: it was already disabled)."""
    user = _find_user(session, email)
    if user.disabled_at is not None:
        return user, False
    user.disabled_at = now
    user.session_epoch += 1
    audit.record(session, audit.COMMAND_LINE, "user.disable", "user", str(user.id), now=now)
    return user, True


def enable_user(session: Session, email: str, *, now: dt.datetime) -> tuple[User, bool]:
    """Let a disabled account sign in again (its old sessions stay ended).
    Whether it changed (False: it was not disabled)."""
    user = _find_user(session, email)
    if user.disabled_at is None:
        return user, False
    user.disabled_at = None
    audit.record(session, audit.COMMAND_LINE, "user.enable", "user", str(user.id), now=now)
    return user, True


def _find_user(session: Session, email: str) -> User:
    normalised = email.strip().lower()
    user = session.scalar(
        select(User).where(func.lower(User.email) == normalised).with_for_update()
    )
    if user is None:
        raise AccountError(
            f"No account {normalised}: check the address (accounts are created with "
            "`intake-service users add`)."
        )
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
