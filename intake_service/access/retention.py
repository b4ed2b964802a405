"""Retention: personal data of incidents closed for long enough is pseudonymised.

Names, phones, e-mails, suspect descriptions, narratives, street addresses, police case
numbers, consents and video erase dates are replaced or removed, in the sheet, in every
version, in the command centre's status changes (comments, call signs, free-text causes),
in the
published events kept in the outbox and in the appointment emails (addresses,
text, calendar attachment); the incident's attached files are deleted (their rows stay,
marked, for counts); counts, places, times, natures and priorities stay,
so GPO assessments and appointment measures still work. Idempotent: a pseudonymised
incident is never touched again. Each incident done is written to the audit log.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    Attachment,
    CctvRequisition,
    EmailMessage,
    Incident,
    IncidentMessage,
    IncidentVersion,
    MailboxNotice,
    OutboxEvent,
    WebhookDelivery,
)
from intake_service.platform.file_store import FileStore

PSEUDONYM = "[pseudonymisé]"
# Finished incidents: what the command centre closed, and what never went further.
FINISHED = ("closed", "withdrawn", "rejected")
RETENTION_JOB = Principal(role="admin", scope="*", actor="retention job")


def pseudonymise_sheet(sheet: dict[str, Any]) -> dict[str, Any]:
    """The sheet without its personal data (pure; the input is not changed)."""
    kept = copy.deepcopy(sheet)
    reporter = kept.get("reported_by") or {}
    for key in ("name", "callback_phone"):
        if key in reporter:
            reporter[key] = PSEUDONYM
    if "narrative" in kept:
        kept["narrative"] = PSEUDONYM
    suspects = kept.get("suspects") or {}
    for key in ("description", "flight_direction"):
        if key in suspects:
            suspects[key] = PSEUDONYM
    for victim in kept.get("victims") or []:
        if "contact" in victim:
            victim["contact"] = {"name": PSEUDONYM}
        victim.pop("consents", None)
    (kept.get("video") or {}).pop("erased_after", None)
    # A street address may be someone's home; the police's case number leads to a file
    # of named people. The place (its kind, stop, commune, coordinates) stays.
    location = kept.get("location") or {}
    if location.get("address"):
        location["address"] = PSEUDONYM
    references = kept.get("references") or {}
    if references.get("police_case_number"):
        references["police_case_number"] = PSEUDONYM
    return kept


# A status change's free texts and the patrol's call sign; its codes stay (the outcome,
# the rejection's cause code, where it was sent) for the measures.
STATUS_DETAIL_TEXTS = ("comment", "call_sign", "cause", "reason")


def pseudonymise_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """A status change's detail without its free texts (pure; the input is not changed)."""
    return {
        key: PSEUDONYM if key in STATUS_DETAIL_TEXTS and value else value
        for key, value in detail.items()
    }


def _pseudonymise_payload(payload: dict[str, Any]) -> None:
    """An event's or a webhook's payload: the sheet it carries, its status change's
    detail and the incident's status history, its message or requisition."""
    published = payload.get("incident")
    if isinstance(published, dict):
        if isinstance(published.get("sheet"), dict):
            published["sheet"] = pseudonymise_sheet(published["sheet"])
        for step in published.get("status_history") or []:
            if isinstance(step, dict) and isinstance(step.get("detail"), dict):
                step["detail"] = pseudonymise_detail(step["detail"])
    if isinstance(payload.get("detail"), dict):
        payload["detail"] = pseudonymise_detail(payload["detail"])
    _pseudonymise_message(payload)


@dataclass
class RetentionReport:
    incidents: list[str] = field(default_factory=list)
    versions: int = 0
    events: int = 0
    emails: int = 0
    messages: int = 0
    attachments: int = 0


def due(session: Session, now: dt.datetime, keep_for: dt.timedelta) -> Sequence[Incident]:
    return session.scalars(
        select(Incident)
        .where(
            Incident.status.in_(FINISHED),
            Incident.updated_at <= now - keep_for,
            Incident.pseudonymised_at.is_(None),
        )
        .order_by(Incident.updated_at)
        .with_for_update(skip_locked=True, of=Incident)
    ).all()


def run_retention(
    session: Session,
    now: dt.datetime,
    keep_for: dt.timedelta,
    *,
    dry_run: bool = False,
    files: FileStore | None = None,
    before_pseudonymising: Callable[[Session, Incident], object] | None = None,
) -> RetentionReport:
    """Pseudonymise what is due (or, with ``dry_run``, only say what would be); delete
    the attached files from ``files`` (required as soon as a due incident has one).

    ``before_pseudonymising(session, incident)`` runs first, the sheet still whole, for
    the features above this one that copied its personal data (the GPO meetings' texts:
    ``gpo.meetings.forget_incident``)."""
    report = RetentionReport()
    for incident in due(session, now, keep_for):
        report.incidents.append(incident.id)
        versions = session.scalars(
            select(IncidentVersion).where(IncidentVersion.incident_id == incident.id)
        ).all()
        events = session.scalars(
            select(OutboxEvent).where(OutboxEvent.incident_id == incident.id)
        ).all()
        requests = select(AppointmentRequest.id).where(
            AppointmentRequest.incident_id == incident.id
        )
        appointments = select(Appointment.id).where(Appointment.request_id.in_(requests))
        emails = session.scalars(
            select(EmailMessage).where(
                EmailMessage.request_id.in_(requests)
                | EmailMessage.appointment_id.in_(appointments)
            )
        ).all()
        messages = session.scalars(
            select(IncidentMessage).where(IncidentMessage.incident_id == incident.id)
        ).all()
        report.versions += len(versions)
        report.events += len(events)
        report.emails += len(emails)
        attached = session.scalars(
            select(Attachment).where(
                Attachment.incident_id == incident.id, Attachment.deleted_at.is_(None)
            )
        ).all()
        report.messages += len(messages)
        report.attachments += len(attached)
        if dry_run:
            continue
        if attached and files is None:
            raise ValueError("retention needs the file store to delete the attachments")
        if before_pseudonymising is not None:
            before_pseudonymising(session, incident)
        incident.sheet = pseudonymise_sheet(incident.sheet)
        incident.pseudonymised_at = now
        for version in versions:
            version.sheet = pseudonymise_sheet(version.sheet)
        for event in events:
            envelope = copy.deepcopy(event.envelope)
            _pseudonymise_payload(envelope.get("payload", {}))
            event.envelope = envelope
        for change in incident.status_changes:
            change.detail = pseudonymise_detail(change.detail or {})
        for email in emails:
            # Who was written to and what was said: the state and dates stay, for the measures.
            email.recipients = []
            email.body = PSEUDONYM
            email.ics = None
        _pseudonymise_direct_line(session, incident.id, messages)
        for attachment in attached:
            # Deleted before the commit: should it roll back, the next run finds the row
            # unmarked and deletes again (a missing file is not an error).
            assert files is not None
            files.delete(attachment.storage_key)
            attachment.deleted_at = now
            attachment.filename = PSEUDONYM
            attachment.uploaded_by = PSEUDONYM
        audit.record(
            session,
            RETENTION_JOB,
            "retention.pseudonymise",
            "incident",
            incident.id,
            now=now,
            detail={
                "versions": len(versions),
                "events": len(events),
                "emails": len(emails),
                "messages": len(messages),
                "attachments": len(attached),
            },
        )
    return report


def _pseudonymise_message(payload: dict[str, Any]) -> None:
    """A message (or a CCTV requisition) carried by an event or a webhook delivery loses
    its text (and author)."""
    message = payload.get("message")
    if isinstance(message, dict):
        message["text"] = PSEUDONYM
        if isinstance(message.get("author"), dict):
            message["author"]["person"] = PSEUDONYM
    # A CCTV requisition's names and free texts (incident.cctv_requisition_changed).
    requisition = payload.get("cctv_requisition")
    if isinstance(requisition, dict):
        for name in ("what", "handed_over_to", "reason"):
            if requisition.get(name):
                requisition[name] = PSEUDONYM
        if isinstance(requisition.get("requested_by"), dict):
            requisition["requested_by"]["person"] = PSEUDONYM


def _pseudonymise_direct_line(
    session: Session, incident_id: str, messages: Sequence[IncidentMessage]
) -> None:
    """The conversation's texts and authors, the requisitions' names and reasons, the
    webhook deliveries that carried them and the mailbox notices' emails."""
    for message in messages:
        message.text = PSEUDONYM
        message.author = PSEUDONYM
    for requisition in session.scalars(
        select(CctvRequisition).where(CctvRequisition.incident_id == incident_id)
    ):
        requisition.what = PSEUDONYM
        requisition.requested_by = PSEUDONYM
        if requisition.handed_over_to:
            requisition.handed_over_to = PSEUDONYM
        if requisition.reason:
            requisition.reason = PSEUDONYM
    for delivery in session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.incident_id == incident_id)
    ):
        payload = copy.deepcopy(delivery.payload)
        _pseudonymise_payload(payload)
        delivery.payload = payload
    notices = session.scalars(
        select(MailboxNotice).where(MailboxNotice.incident_id == incident_id)
    ).all()
    email_ids = [notice.email_id for notice in notices if notice.email_id is not None]
    for notice in notices:
        notice.body = PSEUDONYM
    # A digest gathers several incidents' notices: it is emptied as a whole (its
    # state and dates stay, as the appointment emails').
    for email in session.scalars(select(EmailMessage).where(EmailMessage.id.in_(email_ids))):
        email.recipients = []
        email.body = PSEUDONYM
