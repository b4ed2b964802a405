"""What the deployment decides about booking, carried to every use case that books or
writes an email: the working-day calendar and where the email texts are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intake_service.access.rules.permissions import Principal
from intake_service.appointments.rules import eligibility
from intake_service.appointments.rules.working_days import french_holidays

# A booking never starts sooner than this: the victim must be told and get there.
MIN_LEAD = dt.timedelta(hours=1)
WORKER = Principal(role="system", scope="*", actor="worker:appointments")


@dataclass(frozen=True)
class BookingPolicy:
    """What the booking use cases take from ``Config``: the delays (settings
    ``appointment_urgent_days``/``appointment_working_days``) and the folder of the
    deployment's email texts (``notifications.render``; None: the packaged texts)."""

    urgent_days: int = 2
    working_days: int = 5
    holidays: Container[dt.date] | None = field(default=None, compare=False)
    email_overrides: Path | None = None
    # Where the links of the functional-mailbox notices start (setting ``PUBLIC_URL``).
    public_url: str = "http://127.0.0.1:8000"
    # The calendar event's ORGANIZER when the station has no referent (``MAIL_FROM``).
    mail_from: str = "rdv-plainte@gpo-transports.example"

    def book_by(self, priority: str, accepted_at: dt.datetime) -> dt.datetime:
        calendar = self.holidays if self.holidays is not None else french_holidays()
        return eligibility.book_by(
            priority,
            accepted_at,
            urgent_days=self.urgent_days,
            working_days=self.working_days,
            holidays=calendar,
        )


def policy_of(config: Any) -> BookingPolicy:
    """The policy of a ``Config``."""
    return BookingPolicy(
        urgent_days=config.appointment_urgent_days,
        working_days=config.appointment_working_days,
        email_overrides=config.instance_path / "emails",
        public_url=config.public_url,
        mail_from=config.mail_from,
    )
