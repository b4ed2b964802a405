"""The incident's files on the pages: the list with download links and the upload form,
one partial (``_attachments.html``) for the operator's follow-up page and the console's
incident page, filled by ``attachments_context``.

The same use cases as the API (``direct_line/attachments.py``): the type is sniffed,
the photo's metadata stripped, the file published after the commit; a download is
audited and always a download, never rendered from the service's origin.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    send_file,
    url_for,
)

from intake_service.access.rules.permissions import Principal
from intake_service.direct_line import attachments
from intake_service.direct_line.rules.conversation import side_of
from intake_service.direct_line.rules.file_types import (
    DOWNLOAD_HEADERS,
    FileRefused,
    SizeLimits,
    content_disposition,
)
from intake_service.platform.errors import Forbidden, NotFound, Refused
from intake_service.platform.labels import date_time
from intake_service.serving.context import database
from intake_service.web.auth import current_page_principal, page_requires

bp = Blueprint("attachment_pages", __name__)

# Where each side's pages are: the operator's follow-up, the command centre's console.
PAGES = {
    "operator": ("follow_up.incident", "attachment_pages.follow_up_download"),
    "command_centre": ("console.incident", "attachment_pages.console_download"),
}
UPLOADS = {
    "operator": "attachment_pages.follow_up_upload",
    "command_centre": "attachment_pages.console_upload",
}
ACCEPT = "image/jpeg,image/png,image/heic,image/heif,video/mp4,application/pdf"
KIND_LABELS = {
    "image/jpeg": "Photo",
    "image/png": "Image",
    "image/heic": "Photo",
    "image/heif": "Photo",
    "video/mp4": "Vidéo",
    "application/pdf": "PDF",
}
SIDE_LABELS = {"operator": "Exploitant", "command_centre": "Centre de commandement"}


def init_app(app: Flask) -> None:
    """Register the pages, and the upload's cap: set before the CSRF check reads the form
    (call this before ``csrf.init_app``)."""

    @app.before_request
    def upload_limit() -> None:
        # As large as the largest file, for the upload only (MAX_BODY_BYTES elsewhere);
        # past it, 413 before the body is read.
        if request.endpoint in UPLOADS.values():
            request.max_content_length = attachments.request_limit(app.extensions["intake.config"])

    app.register_blueprint(bp)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def _size_label(size: int) -> str:
    return f"{max(1, round(size / 1024))} Ko" if size < 1024 * 1024 else _megabytes(size)


def limits_label(limits: SizeLimits) -> str:
    return (
        f"photos {_megabytes(limits.image)}, vidéos {_megabytes(limits.video)}, "
        f"PDF {_megabytes(limits.pdf)}"
    )


def refusal_text(refused: FileRefused, limits: SizeLimits) -> str:
    """Why a file was refused, in French."""
    if refused.status == 413:
        return f"Fichier trop volumineux pour son type ({limits_label(limits)} au plus)."
    if refused.status == 415:
        return (
            "Seuls les photos (JPEG, PNG, HEIC), les extraits vidéo MP4 et les PDF sont "
            "acceptés ; le type est lu dans le contenu du fichier, pas dans son nom."
        )
    if refused.status == 503:
        return "l'antivirus ne répond pas ; réessayez dans un instant."
    if "virus" in refused.message:
        return "un virus y a été trouvé ; il n'est pas conservé."
    return "Le fichier est vide, incomplet ou endommagé."


def attachments_context(principal: Principal, incident_id: str) -> dict[str, Any]:
    """What ``_attachments.html`` shows: the files the caller's side sees and the form.

    The page's own read of the incident is audited; each download is audited again.
    """
    side = side_of(principal.role)
    if side is None:
        return {"attachments": None}
    _page, download = PAGES[side]
    config = current_app.extensions["intake.config"]
    with database().reading() as session:
        found = attachments.visible_attachments(session, incident_id, side)
        rows = [
            {
                "filename": a.filename,
                "kind": KIND_LABELS.get(a.content_type, a.content_type),
                "size": _size_label(a.size),
                "side": SIDE_LABELS[a.side],
                "at": date_time(a.created_at),
                "url": url_for(download, incident_id=incident_id, attachment_id=a.id),
            }
            for a in found
        ]
    return {
        "attachments": rows,
        "attachment_upload": url_for(UPLOADS[side], incident_id=incident_id),
        "attachment_accept": ACCEPT,
        "attachment_limits": limits_label(attachments.limits_of(config)),
    }


def _upload(incident_id: str) -> Any:
    principal = current_page_principal()
    side = side_of(principal.role)
    if side is None:
        abort(403)
    page = url_for(PAGES[side][0], incident_id=incident_id) + "#pieces-jointes"
    config = current_app.extensions["intake.config"]
    limits = attachments.limits_of(config)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choisissez un fichier à joindre.", "erreur")
        return redirect(page, 303)
    store = attachments.store_of(config)
    try:
        prepared = attachments.prepare(
            store, upload.stream, upload.filename, limits, attachments.scanner_of(config)
        )
        with attachments.staged_upload(store, prepared):
            with database().transaction() as session:
                added = attachments.add_attachment(
                    session, principal, incident_id, prepared, message_id=None, now=g.now
                )
                key, filename = added.storage_key, added.filename
            store.publish(prepared.staged, key)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except FileRefused as refused:
        flash(f"Fichier refusé : {refusal_text(refused, limits)}", "erreur")
        return redirect(page, 303)
    except Refused:
        flash("Fichier refusé : les données personnelles de la fiche ont été purgées.", "erreur")
        return redirect(page, 303)
    flash(f"Fichier joint : {filename}.", "succes")
    return redirect(page, 303)


def _download(incident_id: str, attachment_id: str) -> Any:
    principal = current_page_principal()
    store = attachments.store_of(current_app.extensions["intake.config"])
    try:
        with database().transaction() as session:
            found = attachments.read_attachment(
                session, principal, incident_id, attachment_id, now=g.now
            )
            key, content_type, filename = found.storage_key, found.content_type, found.filename
    except (NotFound, Forbidden):
        abort(404)
    if not store.exists(key):
        abort(404)
    response = send_file(
        store.path_of(key), mimetype=content_type, conditional=False, etag=False, max_age=None
    )
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers.update(DOWNLOAD_HEADERS)
    return response


@bp.route("/operateur/incidents/<incident_id>/pieces-jointes", methods=["POST"])
@page_requires("follow_up.view")
def follow_up_upload(incident_id: str) -> Any:
    """The operator joins a photo, a video extract or a PDF to its incident."""
    return _upload(incident_id)


@bp.route("/operateur/incidents/<incident_id>/pieces-jointes/<attachment_id>")
@page_requires("follow_up.view")
def follow_up_download(incident_id: str, attachment_id: str) -> Any:
    """One file of the incident, as a download (audited)."""
    return _download(incident_id, attachment_id)


@bp.route("/console/incidents/<incident_id>/pieces-jointes", methods=["POST"])
@page_requires("command_centre.queue")
def console_upload(incident_id: str) -> Any:
    """The command centre joins a file to the incident."""
    return _upload(incident_id)


@bp.route("/console/incidents/<incident_id>/pieces-jointes/<attachment_id>")
@page_requires("command_centre.queue")
def console_download(incident_id: str, attachment_id: str) -> Any:
    """One file of the incident, as a download (audited)."""
    return _download(incident_id, attachment_id)
