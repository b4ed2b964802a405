"""Server-rendered pages, in French: sign-in, the command-centre console, the sheet
as a web form and the operator's follow-up.

Every form carries a CSRF token (Flask-WTF); the API, authenticated by bearer
tokens and never by cookies, is exempt. Pages get a strict Content-Security-Policy:
no inline script, scripts and styles from this site only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, render_template, request, send_from_directory
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from intake_service.serving.boundary import request_text_fields
from intake_service.web import auth, console, follow_up, home, sheet_form
from intake_service.web.live import LiveHub
from schemas.text import is_storable

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; "
    "connect-src 'self'; media-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)


def content_security_policy(tiles_url: str) -> str:
    """The pages' policy: 'self' only, and the console map's tile server for images."""
    parts = urlsplit(tiles_url) if tiles_url else None
    origin = f" {parts.scheme}://{parts.netloc}" if parts and parts.scheme and parts.netloc else ""
    return CSP.format(tiles=origin)


PAGE_TITLES = {
    400: "Requête incorrecte",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    413: "Envoi trop volumineux",
    429: "Trop de requêtes",
    500: "Erreur du service",
    503: "Service momentanément indisponible",
}

csrf = CSRFProtect()
STATIC = Path(__file__).parent / "static"


def is_page(path: str) -> bool:
    """Paths served as HTML pages (everything but the API, health checks and metrics)."""
    return not path.startswith(("/api/", "/healthz", "/readyz", "/metrics"))


def error_page(status: int, detail: str | None = None) -> Response:
    body = render_template(
        "error.html", status=status, title=PAGE_TITLES.get(status, "Erreur"), detail=detail
    )
    return Response(body, status=status, mimetype="text/html")


# The forms whose schema refuses unstorable text itself and says so under the field
# (schemas/direct_line.py's ``storable_text``): the guard below leaves their fields to them.
FORMS_CHECKING_THEIR_TEXT = frozenset(
    {
        "console.post_message",
        "console.hold",
        "follow_up.post_message",
        "cctv_pages.request_footage",
        "cctv_pages.step",
        "directory_pages.edit",
    }
)


def _refuse_unstorable_input() -> Response | None:
    """400 for a NUL or a lone surrogate in a page's address or form (``schemas/text.py``):
    PostgreSQL would refuse it in a query, as a 500; the page names the field instead."""
    if not is_page(request.path):
        return None
    fields = request_text_fields()
    if (
        request.method == "POST"
        and request.endpoint not in FORMS_CHECKING_THEIR_TEXT
        and request.mimetype
        in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        )
    ):
        for key, values in request.form.lists():
            fields.append((key, key))
            fields.extend((key, value) for value in values)
    refused = list(dict.fromkeys(name for name, value in fields if not is_storable(value)))
    if refused:
        names = ", ".join(f"« {name} »" for name in refused)
        return error_page(
            400,
            f"Caractère interdit (nul ou non Unicode) dans : {names}. Corrigez et réessayez.",
        )
    return None


def _security_headers(response: Response) -> Response:
    if is_page(request.path):
        response.headers.setdefault("Content-Security-Policy", current_app.extensions["intake.csp"])
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_web(app: Flask) -> None:
    config = app.extensions["intake.config"]
    app.extensions["intake.csp"] = content_security_policy(config.map_tiles_url)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Behind TLS in production; the embedded mode serves plain http on 127.0.0.1.
        SESSION_COOKIE_SECURE=not config.embedded,
        SESSION_COOKIE_NAME="intake_session",
        # The cookie's own expiry; the server ends the session at the same time after
        # sign-in whatever the activity, and at sign-out (access/rules/sessions.py).
        PERMANENT_SESSION_LIFETIME=config.session_lifetime,
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session: a console stays open a whole shift
    )
    # Files on the incident: their pages, and the upload's cap, set before the CSRF check.
    from intake_service.web import attachments as attachment_pages

    attachment_pages.init_app(app)
    csrf.init_app(app)
    for blueprint in app.extensions["intake.api_blueprints"]:
        csrf.exempt(blueprint)
    app.extensions["intake.page_errors"] = page_error_response
    app.extensions["intake.live"] = LiveHub(app.extensions["intake.db"])
    app.add_url_rule(
        "/static/<path:filename>",
        endpoint="static_pages",
        view_func=lambda filename: send_from_directory(STATIC, filename, max_age=3600),
    )
    for blueprint in (auth.bp, home.bp, console.bp, sheet_form.bp, follow_up.bp):
        app.register_blueprint(blueprint)
    # Priority complaint appointments: station, operator and measures pages.
    from intake_service.web import appointments as appointment_pages
    from intake_service.web import stations as station_pages

    app.register_blueprint(station_pages.bp)
    app.register_blueprint(appointment_pages.bp)
    # Assessment of GPO problems and the meeting brief.
    from intake_service.web import gpo_assessment as gpo_assessment_pages

    app.register_blueprint(gpo_assessment_pages.bp)
    # Proposals of links and emerging problems.
    from intake_service.web import gpo_links as gpo_link_pages

    app.register_blueprint(gpo_link_pages.bp)
    # GPO problems: list, form, detail.
    from intake_service.web import gpo

    app.register_blueprint(gpo.bp)
    # The direct line's directory: referents and functional mailboxes.
    from intake_service.web import directory as directory_pages

    app.register_blueprint(directory_pages.bp)
    # The direct line: CCTV requisitions on the incident pages, and their measures.
    from intake_service.web import cctv as cctv_pages

    app.register_blueprint(cctv_pages.bp)
    # Exports (issue 16): the incident export, the monthly statistics return.
    from intake_service.web import reporting as reporting_pages

    app.register_blueprint(reporting_pages.bp)

    # GPO meetings: plan, agenda, attendance, decisions, minutes, collegial evaluation.
    from intake_service.web import gpo_meetings as gpo_meeting_pages

    app.register_blueprint(gpo_meeting_pages.bp)

    # Above one GPO (issue 16): the national and départemental view, the hotspots.
    from intake_service.web import overview as overview_pages

    app.register_blueprint(overview_pages.bp)
    app.after_request(_security_headers)
    app.before_request(_refuse_unstorable_input)

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> Response:
        return error_page(
            400, "Le formulaire a expiré ou ne vient pas de ce site : rechargez la page."
        )

    @app.context_processor
    def signed_in() -> dict[str, Any]:
        return {"principal": auth.page_principal()}


def page_error_response(error: HTTPException) -> Response:
    response = error_page(error.code or 500)
    for name, value in ((getattr(error, "data", None) or {}).get("headers") or {}).items():
        response.headers[name] = value
    return response
