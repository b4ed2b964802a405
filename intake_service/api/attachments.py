"""``/api/v1/incidents/<id>/attachments``: files on the incident, both ways.

The operator and the command centre of the incident add photos (JPEG, PNG, HEIC),
MP4 video extracts and PDFs (multipart/form-data), list them and download them. The
type is sniffed from the bytes; a download is always ``Content-Disposition:
attachment`` with the sniffed type, ``nosniff`` and a sandboxing CSP, so nothing is
ever rendered from the service's origin. Scoped as the incident is: outside the
caller's scope, 404. Every list and every download is audited.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

from flask import current_app, make_response, request, send_file, url_for
from flask.views import MethodView
from flask_smorest import abort
from flask_smorest.fields import Upload

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.direct_line import attachments
from intake_service.direct_line.rules.file_types import (
    DOWNLOAD_HEADERS,
    KIND,
    FileRefused,
    content_disposition,
)
from intake_service.platform.errors import Forbidden, NotFound, Refused
from intake_service.serving.context import database, request_now
from schemas.base import BaseSchema
from schemas.direct_line import AttachmentListSchema, AttachmentSchema, NewAttachmentSchema

blp = ApiBlueprint(
    "attachments",
    __name__,
    url_prefix="/api/v1/incidents",
    description="Files on an incident (photos, video extracts, PDFs), between the command "
    "centre and the operator.",
)
_attachment_schema = AttachmentSchema()
F = TypeVar("F", bound=Callable[..., Any])


# The multipart body as documented: flask-smorest documents one of its two parts only.
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "message_id": {"type": "string", "format": "uuid"},
                },
            }
        }
    },
}
DOWNLOAD_RESPONSE = {
    "description": "The file, as a download, in its sniffed type.",
    "content": {
        content_type: {"schema": {"type": "string", "format": "binary"}} for content_type in KIND
    },
}


class FileSchema(BaseSchema):
    """The multipart file part (flask-smorest's Upload field lives with the API)."""

    file = Upload(required=True, metadata={"description": "The file (its type is sniffed)."})


def upload_limit(view: F) -> F:
    """Let this request's body be as large as the largest file (the app's cap stays
    MAX_BODY_BYTES elsewhere); past it, 413 before the body is read."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request.max_content_length = attachments.request_limit(
            current_app.extensions["intake.config"]
        )
        return view(*args, **kwargs)

    return cast(F, wrapper)


@contextlib.contextmanager
def answers() -> Iterator[None]:
    """The use cases' refusals as problems (the transaction inside has rolled back)."""
    try:
        yield
    except NotFound:
        abort(404, message="No such incident or attachment.")
    except Forbidden as exc:
        abort(403, message=str(exc))
    except FileRefused as exc:
        abort(exc.status, message=exc.message, errors=[{"field": "file", "message": exc.message}])
    except Refused as exc:
        abort(
            409 if exc.conflict else 422,
            message=exc.message,
            errors=[{"field": exc.field or "incident", "message": exc.message}],
        )


@blp.route("/<incident_id>/attachments")
class Attachments(MethodView):
    @require("attachment.read")
    @blp.response(200, AttachmentListSchema)
    @blp.problem(404, "No such incident in your scope.")
    def get(self, incident_id: str) -> Any:
        """The incident's files

        Oldest first, as the caller's side sees them (a file on a note stays on the
        note's side); files removed by retention are not listed. Audited.
        """
        now = request_now()
        with answers(), database().transaction() as session:
            found = attachments.list_attachments(session, current_principal(), incident_id, now=now)
            return {"attachments": [attachments.attachment_document(a) for a in found]}

    @require("attachment.add")
    @upload_limit
    @blp.arguments(NewAttachmentSchema, location="form")
    @blp.arguments(FileSchema, location="files")
    @blp.response(201, AttachmentSchema)
    @blp.doc(requestBody=UPLOAD_BODY)
    @blp.problem(404, "No such incident in your scope.")
    @blp.problem(413, "The file is larger than its type's limit")
    @blp.problem(415, "Not a type taken: JPEG, PNG, HEIC, MP4 or PDF (read from the content)")
    @blp.problem(422, "An empty, cut, damaged or infected file, or a message not of yours")
    @blp.problem(503, "The virus scanner (CLAMD_URL) is unavailable: retry later")
    def post(self, form: dict[str, Any], files: dict[str, Any], incident_id: str) -> Any:
        """Add a file

        multipart/form-data: ``file``, and optionally ``message_id``, one of your
        side's messages it goes with. The type is read from the content (a PNG named
        ``.pdf`` is a PNG); photos keep their EXIF location and lose every other
        metadata. Published as ``incident.attachment_added`` (metadata only) on the
        feed and, for the command centre's files, on the operator's webhook.
        """
        config = current_app.extensions["intake.config"]
        store = attachments.store_of(config)
        upload = files["file"]
        message_id = str(form["message_id"]) if form.get("message_id") else None
        now = request_now()
        with answers():
            prepared = attachments.prepare(
                store,
                upload.stream,
                upload.filename or "",
                attachments.limits_of(config),
                attachments.scanner_of(config),
            )
            with attachments.staged_upload(store, prepared):
                with database().transaction() as session:
                    attachment = attachments.add_attachment(
                        session,
                        current_principal(),
                        incident_id,
                        prepared,
                        message_id=message_id,
                        now=now,
                    )
                    document = _attachment_schema.dump(attachments.attachment_document(attachment))
                store.publish(prepared.staged, attachment.storage_key)
        location = url_for(
            "attachments.download", incident_id=incident_id, attachment_id=attachment.id
        )
        return make_response(document, 201, {"Location": location})


@blp.route("/<incident_id>/attachments/<attachment_id>", endpoint="download")
@require("attachment.read")
@blp.doc(responses={"200": DOWNLOAD_RESPONSE})
@blp.problem(404, "No such incident or attachment in your scope.")
def download(incident_id: str, attachment_id: str) -> Any:
    """Download a file

    Always as a download (``Content-Disposition: attachment``), with the type sniffed
    at upload, ``X-Content-Type-Options: nosniff`` and a sandboxing CSP: nothing is
    rendered from the service's origin. Every download is audited.
    """
    now = request_now()
    store = attachments.store_of(current_app.extensions["intake.config"])
    with answers(), database().transaction() as session:
        attachment = attachments.read_attachment(
            session, current_principal(), incident_id, attachment_id, now=now
        )
        key, content_type, filename = (
            attachment.storage_key,
            attachment.content_type,
            attachment.filename,
        )
    if not store.exists(key):
        current_app.logger.error("attachment %s has no file under %s", attachment_id, key)
        abort(404, message="The file of this attachment is missing.")
    response = send_file(
        store.path_of(key), mimetype=content_type, conditional=False, etag=False, max_age=None
    )
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers.update(DOWNLOAD_HEADERS)
    return response
