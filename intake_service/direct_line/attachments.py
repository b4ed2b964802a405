"""Files on an incident (photos, video extracts, PDFs), from the operator and from the
command centre, alone or with one of the caller's side's messages.

The bytes are checked before anything is written to the database (``prepare``: type
sniffed from the content, size limit of that type, whole file, photo metadata
stripped but the location), in an incoming file of the store; the row is added in the
caller's transaction (``add_attachment``, which never commits) and the entry point
moves the file under its key once that transaction has committed (``staged_upload``).
An attachment leaves, in the same transaction: its ``incident.attachment_added`` event
on the outbox when the CIC may see it, the operator's webhook delivery when it is the
CIC's and the operator may see it (metadata only: never the bytes), and its audit
entry. Listing and every download are audited: a photo is personal data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.direct_line.image_metadata import strip_metadata
from intake_service.direct_line.messages import side_for
from intake_service.direct_line.rules import file_types
from intake_service.direct_line.rules.conversation import visible_to
from intake_service.direct_line.rules.file_types import FileRefused, SizeLimits
from intake_service.feed import webhooks
from intake_service.intake import queries
from intake_service.intake.events import record_event
from intake_service.models import Attachment, IncidentMessage
from intake_service.platform.config import Config
from intake_service.platform.errors import NotFound, Refused
from intake_service.platform.file_store import FileStore, Staged
from intake_service.platform.virus_scan import ScannerUnavailable, VirusScanner
from schemas.direct_line import AttachmentSchema

ATTACHMENT_ADDED = "incident.attachment_added"
_attachment_schema = AttachmentSchema()


def store_of(config: Config) -> FileStore:
    return FileStore(config.attachments_path)


def scanner_of(config: Config) -> VirusScanner | None:
    return VirusScanner.from_url(config.clamd_url) if config.clamd_url else None


def limits_of(config: Config) -> SizeLimits:
    return SizeLimits(
        image=config.attachment_max_image_bytes,
        video=config.attachment_max_video_bytes,
        pdf=config.attachment_max_pdf_bytes,
    )


def request_limit(config: Config) -> int:
    """The largest upload request: the largest file, and room for the multipart framing."""
    return limits_of(config).largest + 64 * 1024


@dataclass(frozen=True)
class Prepared:
    """A checked file in the store's incoming folder, ready to be added."""

    staged: Staged
    content_type: str
    filename: str


def prepare(
    store: FileStore,
    stream: IO[bytes],
    filename: str,
    limits: SizeLimits,
    scanner: VirusScanner | None = None,
) -> Prepared:
    """Copy the upload to an incoming file and check it; FileRefused (413, 415, 422) for
    a file this service does not keep, (503) when the virus scanner cannot answer, and
    then nothing is left behind. With a ``scanner``, the file as sent is scanned before
    it can be added, so no file is ever visible unscanned."""
    try:
        staged = store.stage(stream, limit=limits.largest)
    except ValueError:
        raise FileRefused(413, f"A file is at most {limits.largest} bytes.") from None
    try:
        with staged.path.open("rb") as file:
            head = file.read(file_types.HEAD_BYTES)
            content_type = file_types.check(head, staged.size, limits)
            if content_type == file_types.PDF:
                file.seek(max(0, staged.size - 1024))
                whole = file_types.pdf_complete(file.read())
            elif content_type == file_types.MP4:
                whole = file_types.mp4_complete(file, staged.size)
            else:
                whole = True
        if not whole:
            raise FileRefused(422, "The file is incomplete (cut before its end).")
        if scanner is not None:
            _scan(scanner, staged)
        if content_type in file_types.IMAGES:
            staged = store.restage(staged, strip_metadata(staged.path, content_type))
    except BaseException:
        store.discard(staged)
        raise
    return Prepared(staged, content_type, file_types.download_name(filename, content_type))


def _scan(scanner: VirusScanner, staged: Staged) -> None:
    try:
        threat = scanner.threat(staged.path)
    except ScannerUnavailable:
        raise FileRefused(503, "The virus scanner is unavailable: retry later.") from None
    if threat is not None:
        raise FileRefused(422, f"The file carries a virus ({threat}): it is not kept.")


@contextlib.contextmanager
def staged_upload(store: FileStore, prepared: Prepared) -> Iterator[None]:
    """Around the transaction that adds the row and the ``publish`` that follows its
    commit: whatever fails (a refusal, a rollback), the incoming file does not stay."""
    try:
        yield
    finally:
        # Once published the incoming file is gone already: this removes nothing.
        store.discard(prepared.staged)


def attachment_document(attachment: Attachment) -> dict[str, Any]:
    """The attachment's metadata as the API, the feed, the webhook and the pages carry it."""
    return {
        "id": attachment.id,
        "incident_id": attachment.incident_id,
        "message_id": attachment.message_id,
        "side": attachment.side,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "uploaded_by": {"role": attachment.uploaded_by_role, "person": attachment.uploaded_by},
        "created_at": attachment.created_at,
    }


def _message_of(session: Session, incident_id: str, side: str, message_id: str) -> IncidentMessage:
    message = session.get(IncidentMessage, message_id)
    if message is None or message.incident_id != incident_id or message.side != side:
        raise Refused(
            "message_id", "No message of your side in this incident has this id.", conflict=False
        )
    return message


def add_attachment(
    session: Session,
    principal: Principal,
    incident_id: str,
    prepared: Prepared,
    *,
    message_id: str | None,
    now: dt.datetime,
) -> Attachment:
    """Add the prepared file to the incident, for the caller's side (the entry point
    publishes the file after the commit).

    Raises NotFound outside the caller's scope, Forbidden for a role not party to the
    line, Refused for a message not of the caller's side or a purged incident.
    """
    side = side_for(principal)
    incident = queries.get_for_update(session, principal, incident_id)
    if incident.pseudonymised_at is not None:
        raise Refused(None, "The incident's personal data has been purged: no more files.")
    message = _message_of(session, incident.id, side, message_id) if message_id else None
    kind = message.kind if message is not None else "message"
    attachment_id = str(uuid.uuid4())
    attachment = Attachment(
        id=attachment_id,
        incident_id=incident.id,
        message_id=message.id if message is not None else None,
        side=side,
        uploaded_by=principal.actor[:200],
        uploaded_by_role=principal.role,
        filename=prepared.filename,
        content_type=prepared.content_type,
        size=prepared.staged.size,
        sha256=prepared.staged.sha256,
        storage_key=f"{incident.id}/{attachment_id}",
        created_at=now,
    )
    session.add(attachment)
    session.flush()
    document = attachment_document(attachment)
    if visible_to("command_centre", side, kind):
        record_event(session, incident, ATTACHMENT_ADDED, now, {"attachment": document})
    if side == "command_centre" and visible_to("operator", side, kind):
        webhooks.enqueue_event(
            session,
            incident,
            ATTACHMENT_ADDED,
            {"attachment": _attachment_schema.dump(document)},
            now,
        )
    audit.record(
        session,
        principal,
        "incident.attachment.add",
        "incident",
        incident.id,
        now=now,
        detail={
            "attachment": attachment.id,
            "message": attachment.message_id,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "sha256": attachment.sha256,
        },
    )
    return attachment


def visible_attachments(session: Session, incident_id: str, side: str) -> Sequence[Attachment]:
    """The files ``side`` sees, oldest first (the caller checked the scope and audits):
    a file on a note stays on the note's side; files retention removed are not listed."""
    rows = session.execute(
        select(Attachment, IncidentMessage.kind)
        .outerjoin(IncidentMessage, Attachment.message_id == IncidentMessage.id)
        .where(Attachment.incident_id == incident_id, Attachment.deleted_at.is_(None))
        .order_by(Attachment.created_at, Attachment.id)
    ).all()
    return [
        attachment
        for attachment, kind in rows
        if visible_to(side, attachment.side, kind or "message")
    ]


def list_attachments(
    session: Session, principal: Principal, incident_id: str, *, now: dt.datetime
) -> Sequence[Attachment]:
    """The incident's files the caller's side sees: audited."""
    side = side_for(principal)
    incident = queries.get_incident(session, principal, incident_id)
    audit.record(session, principal, "incident.attachments.read", "incident", incident.id, now=now)
    return visible_attachments(session, incident.id, side)


def read_attachment(
    session: Session,
    principal: Principal,
    incident_id: str,
    attachment_id: str,
    *,
    now: dt.datetime,
) -> Attachment:
    """One file the caller's side sees, to download: every read is audited.

    NotFound for an incident out of scope, and for a file that is not its, not seen by
    the caller's side, or removed by retention.
    """
    side = side_for(principal)
    incident = queries.get_incident(session, principal, incident_id)
    found = {a.id: a for a in visible_attachments(session, incident.id, side)}
    attachment = found.get(attachment_id)
    if attachment is None:
        raise NotFound(attachment_id)
    audit.record(
        session,
        principal,
        "incident.attachment.read",
        "incident",
        incident.id,
        now=now,
        detail={"attachment": attachment.id, "sha256": attachment.sha256},
    )
    return attachment
