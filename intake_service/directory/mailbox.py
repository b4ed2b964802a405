"""Notices to functional mailboxes: written once each, emailed by the mailer or gathered
into the entity's daily digest.

``notify`` runs in the caller's transaction: the notice and its email are committed
with the change that caused them, and the mailer (``workers/mailer.py``) sends the
email with its retries; a failure stays visible on the email row.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.directory.notice_text import entity_of_side, incident_link, notice_body
from intake_service.directory.rules.notices import NOTICE_KINDS
from intake_service.models import DirectoryEntity, EmailMessage, Incident, MailboxNotice

log = logging.getLogger(__name__)


def find_entity(session: Session, kind: str, code: str) -> DirectoryEntity | None:
    return session.scalars(
        select(DirectoryEntity).where(DirectoryEntity.kind == kind, DirectoryEntity.code == code)
    ).first()


def written(session: Session, dedup_key: str) -> bool:
    """Whether the notice of ``dedup_key`` was written already."""
    found = session.scalar(select(MailboxNotice.id).where(MailboxNotice.dedup_key == dedup_key))
    return found is not None


def notify_side(
    session: Session,
    incident: Incident,
    side: str,
    *,
    kind: str,
    dedup_key: str,
    subject: str,
    lead: str,
    now: dt.datetime,
    public_url: str,
) -> MailboxNotice | None:
    """``notify`` the entity speaking for ``side`` on ``incident`` (its operator, or its
    service's command centre): ``lead``, the incident's facts, the link to that side's page."""
    entity_kind, entity_code = entity_of_side(side, incident)
    return notify(
        session,
        entity_kind=entity_kind,
        entity_code=entity_code,
        kind=kind,
        dedup_key=dedup_key,
        subject=subject,
        body=notice_body(lead, incident, incident_link(public_url, side, incident.id)),
        now=now,
        incident_id=incident.id,
    )


def notify(
    session: Session,
    *,
    entity_kind: str,
    entity_code: str,
    kind: str,
    dedup_key: str,
    subject: str,
    body: str,
    now: dt.datetime,
    incident_id: str | None = None,
) -> MailboxNotice | None:
    """Write the notice for the entity's functional mailbox, once per ``dedup_key``.

    Nothing is written when the entity is not in the directory, has no mailbox, or
    opted out of ``kind``; an already written ``dedup_key`` writes nothing again
    (an alert job run twice, an event delivered twice).
    """
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    entity = find_entity(session, entity_kind, entity_code)
    if entity is None or not entity.mailbox or kind not in entity.notices:
        return None
    if written(session, dedup_key):
        return None
    notice = MailboxNotice(
        entity_id=entity.id,
        kind=kind,
        dedup_key=dedup_key[:200],
        incident_id=incident_id,
        subject=subject[:300],
        body=body,
        state="digest" if entity.digest else "emailed",
        created_at=now,
    )
    if not entity.digest:
        email = EmailMessage(
            kind="notice",
            recipients=[entity.mailbox],
            subject=subject[:300],
            body=body,
            ics=None,
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(email)
        session.flush()
        notice.email_id = email.id
    session.add(notice)
    session.flush()
    log.info("notice %s (%s) written for %s %s", notice.id, kind, entity_kind, entity_code)
    return notice
