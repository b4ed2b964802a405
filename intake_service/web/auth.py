"""Signing people in and out of the pages, and the permission check for page views."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from intake_service.access import accounts
from intake_service.access.rules.permissions import Principal, may
from intake_service.serving.context import database
from intake_service.serving.rate_limits import rate_limited

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def page_principal() -> Principal | None:
    """The signed-in person of this request, or None."""
    if "page_principal" in g:
        return cast(Principal | None, g.page_principal)
    principal = None
    user_id = session.get("user_id")
    if isinstance(user_id, int):
        with database().transaction() as db_session:
            principal = accounts.session_principal(
                db_session,
                user_id,
                session.get("epoch"),
                session.get("signed_in_at"),
                now=g.now,
                lifetime=_session_lifetime(),
            )
        if principal is None:
            session.clear()
    g.page_principal = principal
    return principal


def _session_lifetime() -> dt.timedelta:
    lifetime: dt.timedelta = current_app.extensions["intake.config"].session_lifetime
    return lifetime


def page_requires(action: str) -> Callable[[F], F]:
    """Send anonymous visitors to the sign-in page; 403 when the role may not do ``action``."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = page_principal()
            if principal is None:
                return redirect(url_for("auth.sign_in", suivant=request.full_path.rstrip("?")))
            if not may(principal, action):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def current_page_principal() -> Principal:
    principal = page_principal()
    assert principal is not None  # guarded by page_requires
    return principal


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect, nor a header split (a CR or LF
    in ``Location``), nor ``/\\host``, which browsers read as ``//host``."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and " " not in target
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("home.index")


# One answer for every failure (issue 17): an unknown e-mail, a wrong password, a
# disabled account and an attempt made during the wait after failures all read this.
SIGN_IN_REFUSED = (
    "Adresse électronique ou mot de passe incorrect. Après plusieurs essais "
    "infructueux, patientez avant de réessayer : l'attente s'allonge à chaque échec."
)


@bp.route("/connexion", methods=["GET", "POST"])
@rate_limited("sign_in")
def sign_in() -> Any:
    """The sign-in form; failures make the next attempts from the address, and on the
    account, wait longer and longer (``access/rules/sign_in_delay.py``)."""
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")[:254]
        password = request.form.get("password", "")[:1024]
        with database().transaction() as db_session:
            result = accounts.sign_in(
                db_session, email, password, address=request.remote_addr or "", now=g.now
            )
        if result.user_id is not None:
            session.clear()
            session.permanent = True
            session["user_id"] = result.user_id
            session["epoch"] = result.session_epoch
            session["signed_in_at"] = int(g.now.timestamp())
            return redirect(_safe_next(request.args.get("suivant")))
        return render_template("sign_in.html", message=SIGN_IN_REFUSED, email=email), 401
    return render_template("sign_in.html", message=None, email=email)


@bp.route("/deconnexion", methods=["POST"])
def sign_out() -> Any:
    """Sign out: every session of the account ends, this browser's and any other's."""
    user_id = session.get("user_id")
    if isinstance(user_id, int):
        with database().transaction() as db_session:
            accounts.sign_out(
                db_session,
                user_id,
                session.get("epoch"),
                session.get("signed_in_at"),
                now=g.now,
                lifetime=_session_lifetime(),
            )
    session.clear()
    return redirect(url_for("auth.sign_in"))
