"""The incident's conversation: messages, requests for information (RFI) and notes
between the command centre (CIC) of the competent service and the operator.

Each use case runs in the caller's transaction and never commits. A posted message
leaves, in the same transaction: its ``incident.message_posted`` event on the outbox
(the CIC's feed and the live pages; an operator's note has none, the CIC must not see
it), the operator's webhook delivery (what the operator may see: never a CIC note), a
notice to the asked side's functional mailbox for a request, and its audit entry.
Reading the conversation is audited: messages may carry personal data.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.direct_line.rules.conversation import (
    is_overdue,
    other_side,
    rfi_due_at,
    side_of,
    visible_to,
)
from intake_service.directory import mailbox
from intake_service.feed import webhooks
from intake_service.intake import amendments, queries
from intake_service.intake.duplicates import DEFAULT as DEFAULT_DUPLICATES
from intake_service.intake.duplicates import DuplicateSettings
from intake_service.intake.events import record_event
from intake_service.intake.places import CommuneLocator
from intake_service.models import Incident, IncidentMessage
from intake_service.platform.errors import Forbidden, Refused
from intake_service.platform.labels import date_time
from intake_service.territory.reference_cache import ReferenceCache
from schemas.direct_line import MessageSchema

MESSAGE_POSTED = "incident.message_posted"
# Dumps the webhook's JSON as the feed's envelope does (ISO instants).
_message_schema = MessageSchema()


@dataclass(frozen=True)
class NewMessage:
    """What the caller posts (already validated by ``schemas/direct_line.py``)."""

    kind: str
    text: str
    # The request for information this message answers.
    answers: str | None = None
    # A request's own delay (else the priority's default).
    due_in: dt.timedelta | None = None
    # A merge patch of the sheet, applied in the same step (the operator only).
    amendment: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Line:
    """What posting needs from the deployment: the place lookups an amendment re-runs,
    and the address the mailbox notices link to."""

    locator: CommuneLocator
    reference: ReferenceCache
    public_url: str
    duplicates: DuplicateSettings = DEFAULT_DUPLICATES


def side_for(principal: Principal) -> str:
    side = side_of(principal.role)
    if side is None:
        raise Forbidden("only the command centre and the operator take part in the conversation")
    return side


def message_document(message: IncidentMessage, now: dt.datetime) -> dict[str, Any]:
    """The message as the API, the feed, the webhook and the pages carry it."""
    return {
        "id": message.id,
        "incident_id": message.incident_id,
        "number": message.number,
        "side": message.side,
        "kind": message.kind,
        "text": message.text,
        "author": {
            "role": message.author_role,
            "organisation": message.author_org,
            "person": message.author,
        },
        "created_at": message.created_at,
        "due_at": message.due_at,
        "answers": message.answers_id,
        "answered_at": message.answered_at,
        "answered_by": message.answered_by_id,
        "overdue": is_overdue(message.due_at, message.answered_at, now)
        if message.kind == "rfi"
        else False,
        "amended_version": message.amended_version,
    }


def _request_answered(
    session: Session, incident: Incident, side: str, answers: str
) -> IncidentMessage:
    """The open request of the other side that ``answers`` names, locked."""
    request = session.get(IncidentMessage, answers, with_for_update=True)
    if request is None or request.incident_id != incident.id or request.kind != "rfi":
        raise Refused(
            "answers", "No request for information of this incident has this id.", conflict=False
        )
    if request.side == side:
        raise Refused(
            "answers", "A request is answered by the side it was asked of.", conflict=False
        )
    if request.answered_at is not None:
        raise Refused("answers", "This request for information is already answered.")
    return request


def _amend(
    session: Session,
    principal: Principal,
    incident: Incident,
    patch: Mapping[str, Any],
    *,
    now: dt.datetime,
    line: Line,
) -> int | None:
    """Amend the sheet in the answer's step; the new version, or None when nothing changed."""
    if principal.role != "operator":
        raise Refused("amendment", "Only the operator amends its sheet.", conflict=False)
    before = incident.version
    try:
        amended = amendments.amend_incident(
            session,
            principal,
            incident.id,
            patch,
            now=now,
            locator=line.locator,
            reference=line.reference,
            duplicate_settings=line.duplicates,
        )
    except ValidationError as error:
        # Named from the request body's root: ``amendment.suspects.flight_direction``.
        raise ValidationError({"amendment": error.messages}) from None
    return amended.version if amended.version != before else None


def post_message(
    session: Session,
    principal: Principal,
    incident_id: str,
    new: NewMessage,
    *,
    now: dt.datetime,
    line: Line,
) -> IncidentMessage:
    """Post ``new`` on the incident's conversation, for the caller's side.

    Raises NotFound outside the caller's scope, Forbidden for a role not party to it,
    Refused for an answer to no open request of the other side, ValidationError for an
    amendment the sheet's rules refuse (then nothing is posted).
    """
    side = side_for(principal)
    incident = queries.get_for_update(session, principal, incident_id)
    if incident.pseudonymised_at is not None:
        raise Refused(
            None, "The incident's personal data has been purged: the conversation is closed."
        )
    request = None
    if new.answers is not None:
        if new.kind != "message":
            raise Refused(
                "kind", "An answer is a message (not a request or a note).", conflict=False
            )
        request = _request_answered(session, incident, side, new.answers)
    elif new.amendment is not None and new.kind == "note":
        raise Refused("amendment", "A note does not amend the sheet.", conflict=False)
    amended_version = (
        _amend(session, principal, incident, new.amendment, now=now, line=line)
        if new.amendment
        else None
    )
    # The incident's row is locked (get_for_update): numbers follow each other.
    last = session.scalar(
        select(func.max(IncidentMessage.number)).where(IncidentMessage.incident_id == incident.id)
    )
    message = IncidentMessage(
        id=str(uuid.uuid4()),
        incident_id=incident.id,
        number=(last or 0) + 1,
        side=side,
        kind=new.kind,
        text=new.text,
        author_role=principal.role,
        author_org=principal.scope,
        author=principal.actor[:200],
        created_at=now,
        due_at=rfi_due_at(incident.priority, now, new.due_in) if new.kind == "rfi" else None,
        answers_id=request.id if request is not None else None,
        amended_version=amended_version,
    )
    session.add(message)
    if request is not None:
        request.answered_at = now
        request.answered_by_id = message.id
    session.flush()
    document = message_document(message, now)
    # The feed is the CIC's: what the CIC may see (never an operator's note).
    if visible_to("command_centre", side, new.kind):
        record_event(session, incident, MESSAGE_POSTED, now, {"message": document})
    if visible_to("operator", side, new.kind):
        webhooks.enqueue_event(
            session, incident, MESSAGE_POSTED, {"message": _message_schema.dump(document)}, now
        )
    if new.kind == "rfi":
        _notify_request(session, incident, message, line.public_url, now)
    audit.record(
        session,
        principal,
        "incident.message.post",
        "incident",
        incident.id,
        now=now,
        detail={
            "message": message.id,
            "kind": message.kind,
            "answers": message.answers_id,
            "amended_version": amended_version,
        },
    )
    return message


def _notify_request(
    session: Session,
    incident: Incident,
    request: IncidentMessage,
    public_url: str,
    now: dt.datetime,
) -> None:
    asker = "Le centre de commandement" if request.side == "command_centre" else "L'opérateur"
    mailbox.notify_side(
        session,
        incident,
        other_side(request.side),
        kind="rfi",
        dedup_key=f"rfi:{request.id}",
        subject=f"[{incident.priority}] Demande d'information – {incident.operator_reference}",
        lead=f"{asker} vous adresse une demande d'information, attendue avant le "
        f"{date_time(request.due_at)}.",
        now=now,
        public_url=public_url,
    )


def list_messages(
    session: Session, principal: Principal, incident_id: str, *, now: dt.datetime
) -> Sequence[IncidentMessage]:
    """The conversation as the caller's side sees it, oldest first: audited."""
    side = side_for(principal)
    incident = queries.get_incident(session, principal, incident_id)
    audit.record(session, principal, "incident.messages.read", "incident", incident.id, now=now)
    return conversation(session, incident.id, side)


def conversation(session: Session, incident_id: str, side: str) -> Sequence[IncidentMessage]:
    """The messages ``side`` sees (the caller has checked the scope and audits the read)."""
    messages = session.scalars(
        select(IncidentMessage)
        .where(IncidentMessage.incident_id == incident_id)
        .order_by(IncidentMessage.number)
    ).all()
    return [m for m in messages if visible_to(side, m.side, m.kind)]


def open_requests(
    session: Session, incident_ids: Sequence[str], now: dt.datetime
) -> dict[str, tuple[int, int]]:
    """Each incident's requests for information still unanswered, and how many of them
    are overdue (for the queue's rows; the caller has scoped the incidents)."""
    counts: dict[str, tuple[int, int]] = {}
    if not incident_ids:
        return counts
    waiting = session.execute(
        select(IncidentMessage.incident_id, IncidentMessage.due_at).where(
            IncidentMessage.incident_id.in_(list(incident_ids)),
            IncidentMessage.kind == "rfi",
            IncidentMessage.answered_at.is_(None),
        )
    ).all()
    for incident_id, due_at in waiting:
        asked, late = counts.get(incident_id, (0, 0))
        counts[incident_id] = (asked + 1, late + is_overdue(due_at, None, now))
    return counts


def notice_overdue_requests(session: Session, now: dt.datetime, public_url: str) -> int:
    """Tell the asked side's mailbox of each request still unanswered past its due time,
    once per request (periodic job); return how many were found."""
    requests = session.scalars(
        select(IncidentMessage)
        .where(
            IncidentMessage.kind == "rfi",
            IncidentMessage.answered_at.is_(None),
            IncidentMessage.due_at <= now,
            IncidentMessage.overdue_noticed_at.is_(None),
        )
        .order_by(IncidentMessage.due_at)
        .limit(500)
        .with_for_update(skip_locked=True)
    ).all()
    for request in requests:
        incident = session.get(Incident, request.incident_id)
        assert incident is not None  # a foreign key
        mailbox.notify_side(
            session,
            incident,
            other_side(request.side),
            kind="rfi_overdue",
            dedup_key=f"rfi-overdue:{request.id}",
            subject=f"[{incident.priority}] Demande d'information en retard – "
            f"{incident.operator_reference}",
            lead=f"Une demande d'information attendue avant le {date_time(request.due_at)} "
            "est toujours sans réponse.",
            now=now,
            public_url=public_url,
        )
        request.overdue_noticed_at = now
    return len(requests)
