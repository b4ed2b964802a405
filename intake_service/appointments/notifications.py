"""Appointment notices: the emails written when an appointment is booked, moved or cancelled.

Called by the booking use cases (``appointments``) in their own transaction: each
call adds one ``EmailMessage`` row, sent later by the mailer worker (so a mail
server that is down never loses a booking). The text is French, from the Jinja
templates in ``intake_service/appointments/templates/emails/``; a file of the same name in the
deployment's overrides folder replaces the packaged one (a broken replacement falls
back to the packaged text and is logged). That folder is ``emails/`` in the
configured instance folder (``Config.instance_path``): the entry points read it from
their ``Config`` and every notice is given it (``overrides``), never the environment.

Recipients: the victim's contact email (the sheet's ``victims[i].contact.email``)
and the operator's referent (``Operator.referent_email``). A victim with no email
is reached through the referent, and the message says so. France Victimes (116 006)
is always in the text; the referral line only with the ``victim_support_referral``
consent. Nothing personal is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import icalendar
import jinja2
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake_service.directory import mailbox
from intake_service.directory.notice_text import FOOTER
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    EmailMessage,
    Incident,
    Operator,
    PoliceStation,
)
from intake_service.platform import labels

log = logging.getLogger(__name__)

PACKAGED_TEMPLATES = Path(__file__).parent / "templates" / "emails"
APPOINTMENT_KINDS = ("booked", "rescheduled", "cancelled")
SUBJECTS = {
    "booked": "Rendez-vous de plainte prioritaire le {date}",
    "rescheduled": "Rendez-vous de plainte déplacé au {date}",
    "cancelled": "Rendez-vous de plainte du {date} annulé",
    "waiting_alert": "Victime prioritaire en attente d'un rendez-vous de plainte ({station})",
}
# The iCalendar method of each notice (RFC 5546).
ICS_METHODS = {"booked": "REQUEST", "rescheduled": "REQUEST", "cancelled": "CANCEL"}
IN_PERSON_NATURES = frozenset({"sexual_or_sexist_violence"})
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "rdv-plainte@gpo-transports.example"


class NoticeError(LookupError):
    """The appointment or request to notify about does not exist."""


def _environment(directory: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if directory is not None:
        loaders.append(jinja2.FileSystemLoader(str(directory)))
    loaders.append(jinja2.FileSystemLoader(str(PACKAGED_TEMPLATES)))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # noqa: S701 (plain-text emails, never HTML)
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
    )


def render(name: str, context: dict[str, Any], *, overrides: Path | None) -> str:
    """The text of template ``name`` (e.g. ``appointment_booked.txt``): the one in the
    ``overrides`` folder when there is one (None, or a folder that does not exist: the
    packaged texts only)."""
    # Looked at on each notice, so texts added to a running deployment apply at once.
    if overrides is not None and overrides.is_dir():
        try:
            return _environment(overrides).get_template(name).render(context)
        except jinja2.TemplateError as exc:
            # A deployment's broken text must not block a booking: the packaged one is sent.
            log.warning(
                "email template override %s is broken (%s); using the packaged text",
                name,
                type(exc).__name__,
            )
    return _environment(None).get_template(name).render(context)


@dataclass(frozen=True)
class _Victim:
    email: str | None
    referral: bool


def _victim(incident: Incident, index: int) -> _Victim:
    victims = incident.sheet.get("victims") or []
    victim = victims[index] if 0 <= index < len(victims) else {}
    contact = victim.get("contact") or {}
    consents = victim.get("consents") or {}
    email = contact.get("email") if isinstance(contact, dict) else None
    return _Victim(
        email=email if isinstance(email, str) and "@" in email else None,
        referral=bool(consents.get("victim_support_referral")),
    )


def incident_reference(incident: Incident) -> str:
    """What the victim, the operator and the station all recognise: the operator's reference."""
    return f"{incident.operator_reference} (fiche {incident.id[:8]})"


def _recipients(victim: _Victim, operator: Operator) -> list[str]:
    recipients: list[str] = []
    for address in (victim.email, operator.referent_email):
        if address and address not in recipients:
            recipients.append(address)
    return recipients


def _sequence(session: Session, request_id: int) -> int:
    """Each notice of a request's calendar event supersedes the previous one."""
    count = session.scalar(
        select(func.count())
        .select_from(EmailMessage)
        .where(
            EmailMessage.request_id == request_id,
            EmailMessage.kind.in_(APPOINTMENT_KINDS),
        )
    )
    return int(count or 0)


def event_uid(request_id: int) -> str:
    """One calendar event per appointment request: a move or cancel updates the same event."""
    return f"rdv-plainte-{request_id}@gpo-transports"


def build_ics(
    *,
    kind: str,
    uid: str,
    sequence: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    station: PoliceStation,
    reference: str,
    now: dt.datetime,
    organizer: str,
    attendees: Sequence[str],
) -> str:
    """The event as an iTIP message (RFC 5546): REQUEST then CANCEL, which need an
    ORGANIZER (the station, by its referent's address or the service's sender) and the
    ATTENDEEs (who the email goes to; RSVP=FALSE: nobody is expected to answer)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//GPO transports//Rendez-vous de plainte//FR")
    calendar.add("version", "2.0")
    calendar.add("method", ICS_METHODS[kind])
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", starts_at.astimezone(dt.UTC))
    event.add("dtend", ends_at.astimezone(dt.UTC))
    event.add(
        "organizer",
        icalendar.vCalAddress(f"mailto:{organizer}"),
        parameters={"CN": station.name},
    )
    for address in attendees:
        event.add(
            "attendee",
            icalendar.vCalAddress(f"mailto:{address}"),
            parameters={"ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE", "CUTYPE": "INDIVIDUAL"},
        )
    event.add("summary", f"Dépôt de plainte — {station.name}")
    event.add("location", f"{station.name}, {station.address}")
    event.add(
        "description",
        f"Rendez-vous prioritaire de dépôt de plainte. Référence : {reference}. "
        "France Victimes : 116 006, appel gratuit, 7j/7.",
    )
    event.add("status", "CANCELLED" if kind == "cancelled" else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite gives naive datetimes back: they are UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _reason(session: Session, appointment: Appointment, kind: str) -> str | None:
    if kind == "cancelled":
        return appointment.end_reason
    if kind == "rescheduled":
        previous = session.scalar(
            select(Appointment)
            .where(
                Appointment.request_id == appointment.request_id,
                Appointment.id != appointment.id,
                Appointment.end_reason.is_not(None),
            )
            .order_by(Appointment.id.desc())
            .limit(1)
        )
        return previous.end_reason if previous is not None else None
    return None


def appointment_notice(
    session: Session,
    appointment_id: int,
    kind: str,
    now: dt.datetime,
    *,
    overrides: Path | None,
    public_url: str = DEFAULT_PUBLIC_URL,
    mail_from: str = DEFAULT_MAIL_FROM,
) -> EmailMessage:
    """Write the email of a booking, a move or a cancellation (to be sent by the mailer),
    with the deployment's texts from ``overrides`` (see ``render``); a booking or a move
    is also an ``appointment`` notice to the operator's and the station's functional
    mailboxes (their links start with ``public_url``)."""
    if kind not in APPOINTMENT_KINDS:
        raise ValueError(f"unknown appointment notice {kind!r}")
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NoticeError(f"no appointment {appointment_id}")
    request = session.get(AppointmentRequest, appointment.request_id)
    slot = session.get(ComplaintSlot, appointment.slot_id)
    station = session.get(PoliceStation, appointment.station_code)
    if request is None or slot is None or station is None:
        raise NoticeError(f"appointment {appointment_id} is incomplete")
    incident = session.get(Incident, request.incident_id)
    operator = session.get(Operator, request.operator_id)
    if incident is None or operator is None:
        raise NoticeError("the incident or operator of the request is missing")
    victim = _victim(incident, request.victim_index)
    starts_at, ends_at = _aware(slot.starts_at), _aware(slot.ends_at)
    reference = incident_reference(incident)
    natures = set(incident.sheet.get("natures") or [])
    context = {
        "kind": kind,
        "starts": labels.long_date_time(starts_at),
        "ends_time": labels.hour(ends_at),
        "station_name": station.name,
        "station_address": station.address,
        "incident_reference": reference,
        "operator_name": operator.name,
        "victim_has_email": victim.email is not None,
        "referral": victim.referral,
        "in_person": bool(natures & IN_PERSON_NATURES),
        "reason": _reason(session, appointment, kind),
    }
    body = render(f"appointment_{kind}.txt", context, overrides=overrides)
    recipients = _recipients(victim, operator)
    ics = build_ics(
        kind=kind,
        uid=event_uid(request.id),
        sequence=_sequence(session, request.id),
        starts_at=starts_at,
        ends_at=ends_at,
        station=station,
        reference=reference,
        now=now,
        organizer=station.referent_email or mail_from,
        attendees=recipients,
    )
    message = _message(
        kind=kind,
        recipients=recipients,
        subject=SUBJECTS[kind].format(date=labels.long_date_time(starts_at)),
        body=body,
        ics=ics,
        appointment_id=appointment.id,
        request_id=request.id,
        now=now,
    )
    session.add(message)
    session.flush()
    if kind in MAILBOX_KINDS:
        _mailbox_notices(
            session,
            incident,
            station,
            dedup=f"appointment:{appointment.id}:{kind}",
            subject=f"Rendez-vous de plainte {MAILBOX_KINDS[kind]} le "
            f"{labels.long_date_time(starts_at)} – réf. {incident.operator_reference}",
            lead=f"Un rendez-vous de plainte prioritaire est {MAILBOX_KINDS[kind]} au "
            f"{station.name} le {labels.long_date_time(starts_at)}.",
            public_url=public_url,
            now=now,
        )
    log.info("appointment notice %s written for appointment %s", kind, appointment.id)
    return message


def waiting_alert(
    session: Session,
    request_id: int,
    now: dt.datetime,
    *,
    overrides: Path | None,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> EmailMessage:
    """Alert the station's referent that a priority request waits for a slot (the
    deployment's text from ``overrides``, see ``render``), and the operator's and the
    station's functional mailboxes (``appointment`` notice)."""
    request = session.get(AppointmentRequest, request_id)
    if request is None:
        raise NoticeError(f"no appointment request {request_id}")
    incident = session.get(Incident, request.incident_id)
    operator = session.get(Operator, request.operator_id)
    if incident is None or operator is None:
        raise NoticeError("the incident or operator of the request is missing")
    station = session.get(PoliceStation, request.station_code) if request.station_code else None
    station_name = station.name if station is not None else "commissariat non déterminé"
    context = {
        "station_name": station_name,
        "incident_reference": incident_reference(incident),
        "operator_name": operator.name,
        "priority": request.priority,
        "book_by": labels.long_date_time(_aware(request.book_by)),
        "created": labels.long_date_time(_aware(request.created_at)),
        "page_path": "/commissariat",
    }
    recipients = [station.referent_email] if station is not None and station.referent_email else []
    message = _message(
        kind="waiting_alert",
        recipients=recipients,
        subject=SUBJECTS["waiting_alert"].format(station=station_name),
        body=render("waiting_alert.txt", context, overrides=overrides),
        ics=None,
        appointment_id=None,
        request_id=request.id,
        now=now,
    )
    session.add(message)
    session.flush()
    _mailbox_notices(
        session,
        incident,
        station,
        dedup=f"appointment-waiting:{request.id}",
        subject=f"Victime prioritaire en attente d'un rendez-vous de plainte ({station_name}) "
        f"– réf. {incident.operator_reference}",
        lead=f"Une victime prioritaire attend un créneau de plainte ({station_name}) : "
        f"à réserver avant le {labels.long_date_time(_aware(request.book_by))}.",
        public_url=public_url,
        now=now,
    )
    log.info("waiting alert written for request %s", request.id)
    return message


# The appointment notices that also go to the functional mailboxes, and their word.
MAILBOX_KINDS = {"booked": "réservé", "rescheduled": "déplacé"}
# Where each entity reads appointments (web/appointments.py, web/stations.py).
MAILBOX_PAGES = {"operator": "/suivi/rendez-vous", "police_station": "/commissariat"}


def _mailbox_notices(
    session: Session,
    incident: Incident,
    station: PoliceStation | None,
    *,
    dedup: str,
    subject: str,
    lead: str,
    public_url: str,
    now: dt.datetime,
) -> None:
    """The ``appointment`` notice to the operator's and the station's functional mailboxes:
    the station, the slot's date and the incident's reference; never the victim."""
    entities = [("operator", incident.operator.code)]
    if station is not None:
        entities.append(("police_station", station.code))
    for entity_kind, entity_code in entities:
        mailbox.notify(
            session,
            entity_kind=entity_kind,
            entity_code=entity_code,
            kind="appointment",
            dedup_key=f"{dedup}:{entity_kind}",
            subject=subject,
            body=f"{lead}\n\nFiche : {incident_reference(incident)}\n\n"
            f"À consulter (connexion requise) : {public_url.rstrip('/')}"
            f"{MAILBOX_PAGES[entity_kind]}\n\n" + FOOTER,
            now=now,
            incident_id=incident.id,
        )


def _message(
    *,
    kind: str,
    recipients: list[str],
    subject: str,
    body: str,
    ics: str | None,
    appointment_id: int | None,
    request_id: int,
    now: dt.datetime,
) -> EmailMessage:
    # With nobody to write to, the message is failed at once: visible, never retried.
    return EmailMessage(
        appointment_id=appointment_id,
        request_id=request_id,
        kind=kind,
        recipients=recipients,
        subject=subject,
        body=body,
        ics=ics,
        state="pending" if recipients else "failed",
        attempts=0,
        next_attempt_at=now,
        last_error=None
        if recipients
        else "aucun destinataire (ni courriel de la victime, ni référent)",
        created_at=now,
        sent_at=None,
    )
