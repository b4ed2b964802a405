"""The mailer: sends the pending appointment emails (``EmailMessage`` rows) over SMTP.

``config.smtp_url`` says where: ``smtp://host:port`` (plain; add ``?starttls=yes``
to upgrade with STARTTLS), ``smtps://host:port`` (implicit TLS), with
``user:password@`` before the host when the server wants a login. Each message is
a multipart email: the French text and, for appointments, the ``.ics`` attached
as ``text/calendar; method=REQUEST`` (or ``CANCEL``).

A message is claimed with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several mailers never send the same one), sent outside the transaction, then
recorded: sent, or retried later with an exponential backoff, or ``failed``
after ``max_attempts`` (kept with its ``last_error``, visible on the station's
page). A failed email never touches the appointment. Addresses are never logged.

Without ``SMTP_URL`` the mailer says once that emails wait, and keeps them pending.
"""

from __future__ import annotations

import datetime as dt
import email.message
import email.utils
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.models import EmailMessage
from intake_service.platform.clock import utc_now
from intake_service.platform.db import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(hours=2)
LEASE = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:password@]host[:port][?starttls=yes]`` or ``smtps://...``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
    implicit_tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit_tls else 25),
        implicit_tls=implicit_tls,
        starttls=query.get("starttls", ["no"])[0].lower() in ("1", "yes", "true"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def backoff(attempts: int, first: dt.timedelta = FIRST_RETRY) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: doubles each time, capped."""
    return min(first * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


@dataclass(frozen=True)
class Outgoing:
    id: int
    recipients: list[str]
    subject: str
    body: str
    ics: str | None


def claim_due(session: Session, now: dt.datetime, limit: int) -> list[Outgoing]:
    """Lease due pending messages to this mailer, oldest first."""
    rows = session.scalars(
        select(EmailMessage)
        .where(EmailMessage.state == "pending", EmailMessage.next_attempt_at <= now)
        .order_by(EmailMessage.next_attempt_at, EmailMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for message in rows:
        message.next_attempt_at = now + LEASE
        claimed.append(
            Outgoing(
                message.id, list(message.recipients), message.subject, message.body, message.ics
            )
        )
    return claimed


def record_attempt(
    session: Session,
    message_id: int,
    *,
    now: dt.datetime,
    error: str | None,
    max_attempts: int = MAX_ATTEMPTS,
    first_retry: dt.timedelta = FIRST_RETRY,
) -> None:
    """Sent when ``error`` is None; otherwise retried later, or given up after the last try."""
    message = session.get(EmailMessage, message_id, with_for_update=True)
    if message is None or message.state != "pending":
        return
    message.attempts += 1
    if error is None:
        message.state = "sent"
        message.sent_at = now
        message.last_error = None
        return
    message.last_error = error[:500]
    if message.attempts >= max_attempts:
        message.state = "failed"
    else:
        message.next_attempt_at = now + backoff(message.attempts, first_retry)


def _ics_method(ics: str) -> str:
    for line in ics.splitlines():
        if line.upper().startswith("METHOD:"):
            return line.split(":", 1)[1].strip().upper()
    return "PUBLISH"


def build_email(outgoing: Outgoing, mail_from: str) -> email.message.EmailMessage:
    """The multipart email: the text, and the calendar file when there is one."""
    message = email.message.EmailMessage()
    message["From"] = mail_from
    message["To"] = ", ".join(outgoing.recipients)
    message["Subject"] = outgoing.subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain="gpo-transports")
    message.set_content(outgoing.body)
    if outgoing.ics:
        message.add_attachment(
            outgoing.ics,
            subtype="calendar",
            filename="rendez-vous-plainte.ics",
            params={"method": _ics_method(outgoing.ics)},
        )
    return message


def send(target: SmtpTarget, message: email.message.EmailMessage, timeout: float) -> None:
    smtp: smtplib.SMTP
    if target.implicit_tls:
        smtp = smtplib.SMTP_SSL(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with smtp:
        if target.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if target.username:
            smtp.login(target.username, target.password or "")
        smtp.send_message(message)


class Mailer:
    """Sends due emails every ``interval_seconds``."""

    name = "mailer"

    def __init__(
        self,
        db: Database,
        smtp_url: str | None,
        mail_from: str,
        *,
        batch_size: int = 20,
        interval_seconds: float = 1.0,
        timeout_seconds: float = 10.0,
        max_attempts: int = MAX_ATTEMPTS,
        first_retry: dt.timedelta = FIRST_RETRY,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.db = db
        self.target = parse_smtp_url(smtp_url) if smtp_url else None
        self.mail_from = mail_from
        self.batch_size = batch_size
        self.interval_seconds = interval_seconds
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.first_retry = first_retry
        self.clock = clock

    def send_due(self) -> int:
        """Send what is due; return how many messages were attempted."""
        if self.target is None:
            return 0
        with self.db.transaction() as session:
            claimed = claim_due(session, self.clock(), self.batch_size)
        for outgoing in claimed:
            error = None
            try:
                send(self.target, build_email(outgoing, self.mail_from), self.timeout_seconds)
            except (OSError, smtplib.SMTPException) as exc:
                # The class and the server's code only: the message may name an address.
                if isinstance(exc, smtplib.SMTPException):
                    code = getattr(exc, "smtp_code", None)
                    error = type(exc).__name__ + (f" {code}" if code else "")
                else:
                    error = f"{type(exc).__name__}: {exc}"
                log.warning("email %s not sent (%s); will retry", outgoing.id, error)
            with self.db.transaction() as session:
                record_attempt(
                    session,
                    outgoing.id,
                    now=self.clock(),
                    error=error,
                    max_attempts=self.max_attempts,
                    first_retry=self.first_retry,
                )
            if error is None:
                log.info("email %s sent", outgoing.id)
        return len(claimed)

    def run(self, stop: threading.Event) -> None:
        if self.target is None:
            log.warning("SMTP_URL is not set: appointment emails wait, pending, until it is")
        while not stop.is_set():
            try:
                self.send_due()
            except Exception as exc:  # noqa: BLE001 - database down: retry at the next tick
                log.warning("mailer failed (%s); retrying", type(exc).__name__)
            stop.wait(self.interval_seconds)
