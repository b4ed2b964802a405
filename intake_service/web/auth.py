"""Signing people in and out of the pages, and the permission check for page views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from intake_service.access import accounts
from intake_service.access.rules.permissions import Principal, may
from intake_service.platform.clock import PARIS
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
            principal = accounts.user_principal(db_session, user_id)
        if principal is None:
            session.clear()
    g.page_principal = principal
    return principal


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


@bp.route("/connexion", methods=["GET", "POST"])
@rate_limited("sign_in")
def sign_in() -> Any:
    """The sign-in form; five wrong passwords lock the account for 15 minutes."""
    message = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")[:254]
        password = request.form.get("password", "")[:1024]
        with database().transaction() as db_session:
            result = accounts.sign_in(db_session, email, password, now=g.now)
        if result.user_id is not None:
            session.clear()
            session.permanent = True
            session["user_id"] = result.user_id
            return redirect(_safe_next(request.args.get("suivant")))
        if result.refusal == "locked" and result.locked_until is not None:
            until = result.locked_until.astimezone(PARIS).strftime("%H:%M")
            message = (
                f"Trop d'essais infructueux : le compte est verrouillé jusqu'à {until}. "
                "Réessayez plus tard ou contactez votre administrateur."
            )
        else:
            message = "Adresse électronique ou mot de passe incorrect."
        return render_template("sign_in.html", message=message, email=email), 401
    return render_template("sign_in.html", message=message, email=email)


@bp.route("/deconnexion", methods=["POST"])
def sign_out() -> Any:
    session.clear()
    return redirect(url_for("auth.sign_in"))
