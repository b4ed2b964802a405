"""The daily digest: each entity's held notices gathered into one email.

An entity that chose the digest gets its notices held (``MailboxNotice.state`` ``digest``,
``mailbox.notify``); once a day (``DIGEST_HOUR``, Europe/Paris; ``workers/periodic.py``)
they go in one ``EmailMessage`` of kind ``digest``, sent by the mailer with its retries,
and are marked ``digested`` with the email's id. Idempotent: a second run finds nothing
held; an entity already sent its digest today keeps what came since for tomorrow's. An
entity that has no mailbox any more gets a ``failed`` email, visible in
``intake-service status``, rather than notices lost without a trace.
"""

from __future__ import annotations

import datetime as dt
import logging
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.directory.notice_text import FOOTER
from intake_service.directory.rules.digest import day_start, digest_day, french_date
from intake_service.models import DirectoryEntity, EmailMessage, MailboxNotice
from intake_service.platform.labels import date_time

log = logging.getLogger(__name__)

SUBJECT = "Ligne directe – avis du {date}"


def send_digests(session: Session, now: dt.datetime) -> list[int]:
    """Write today's digest of every entity with held notices; return the emails' ids."""
    day = digest_day(now)
    held = session.scalars(
        select(MailboxNotice)
        .where(MailboxNotice.state == "digest")
        .order_by(MailboxNotice.entity_id, MailboxNotice.created_at, MailboxNotice.id)
        .with_for_update(skip_locked=True)
    ).all()
    emails = []
    for entity_id, group in groupby(held, key=lambda notice: notice.entity_id):
        notices = list(group)
        if _sent_today(session, entity_id, day):
            continue
        entity = session.get(DirectoryEntity, entity_id)
        if entity is None:  # a foreign key: cannot happen
            continue
        email = EmailMessage(
            kind="digest",
            recipients=[entity.mailbox] if entity.mailbox else [],
            subject=SUBJECT.format(date=french_date(day)),
            body=_body(notices),
            ics=None,
            state="pending" if entity.mailbox else "failed",
            attempts=0,
            next_attempt_at=now,
            last_error=None if entity.mailbox else "aucune boîte fonctionnelle dans l'annuaire",
            created_at=now,
        )
        session.add(email)
        session.flush()
        for notice in notices:
            notice.state = "digested"
            notice.email_id = email.id
        emails.append(email.id)
        log.info(
            "digest %s of %d notices for %s %s", email.id, len(notices), entity.kind, entity.code
        )
    session.flush()
    return emails


def _sent_today(session: Session, entity_id: int, day: dt.date) -> bool:
    return (
        session.scalar(
            select(MailboxNotice.id)
            .join(EmailMessage, EmailMessage.id == MailboxNotice.email_id)
            .where(
                MailboxNotice.entity_id == entity_id,
                MailboxNotice.state == "digested",
                EmailMessage.kind == "digest",
                EmailMessage.created_at >= day_start(day),
            )
            .limit(1)
        )
        is not None
    )


def _body(notices: list[MailboxNotice]) -> str:
    """One section per notice (its subject, time and text), the footer once."""
    count = len(notices)
    parts = [f"{count} avis de la ligne directe depuis le dernier récapitulatif.\n"]
    for notice in notices:
        text = notice.body.replace(FOOTER, "").strip()
        parts.append(f"— {notice.subject} ({date_time(notice.created_at)})\n\n{text}\n")
    parts.append(FOOTER.replace("ce message", "ce récapitulatif", 1))
    return "\n".join(parts)
