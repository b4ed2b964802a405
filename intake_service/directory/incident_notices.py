"""The notices an incident's events write to functional mailboxes (the ``notices`` consumer).

- ``incident.submitted`` / ``incident.amended`` of a P1 or P2: ``urgent_incident`` to the
  competent service (the fallback desk for an unrouted sheet), once per incident, service
  and priority: a P2 raised to P1 notifies again, a redelivery or a lowered priority
  does not; a sheet redirected to another service notifies that service.
- ``incident.status_changed`` to ``rejected``: ``rejection`` to the operator, once per
  change (a rejection that redirects the sheet to the competent service is not one
  for the operator: the sheet goes on).
- ``incident.escalated``: ``escalation`` to the service, once per incident, service and
  priority, unless the service acknowledged it meanwhile.

The incident is read as it is now (events of one incident may arrive out of order);
the text is ``notice_text``'s: facts and a link, never a name, a phone or a narrative.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from intake_service.directory import mailbox
from intake_service.directory.notice_text import entity_of_side
from intake_service.intake.rules import lifecycle
from intake_service.models import Incident, MailboxNotice

URGENT = ("P1", "P2")
# No copy of a sheet the service no longer has to deal with.
SETTLED = frozenset({"withdrawn", "closed", "rejected"})


def notice_for_event(
    session: Session, envelope: Mapping[str, Any], now: dt.datetime, public_url: str
) -> MailboxNotice | None:
    """Write the notice ``envelope`` calls for, if any (see the module's docstring)."""
    payload = envelope.get("payload") or {}
    incident = session.get(Incident, str((payload.get("incident") or {}).get("id")))
    if incident is None:
        return None
    event_type = envelope.get("type")
    if event_type in ("incident.submitted", "incident.amended"):
        return _urgent(session, incident, now, public_url, raised=event_type == "incident.amended")
    if event_type == "incident.status_changed" and payload.get("status") == "rejected":
        if (payload.get("detail") or {}).get("redirect_to"):
            return None
        return _rejection(session, incident, int(payload.get("sequence") or 0), now, public_url)
    if event_type == "incident.escalated":
        return _escalation(session, incident, now, public_url)
    return None


def _urgent(
    session: Session, incident: Incident, now: dt.datetime, public_url: str, *, raised: bool
) -> MailboxNotice | None:
    if incident.priority not in URGENT or incident.status in SETTLED:
        return None
    _, code = entity_of_side("command_centre", incident)
    key = f"urgent:{incident.id}:{code}"
    if incident.priority == "P2" and mailbox.written(session, f"{key}:P1"):
        return None  # lowered from P1: the service already has the more urgent notice
    if raised and mailbox.written(session, f"{key}:P2"):
        lead = f"L'incident passe en {incident.priority} après une modification de la fiche."
        subject = f"[{incident.priority}] Incident passé en {incident.priority}"
    else:
        lead = f"Un nouvel incident {incident.priority} vous est adressé par la ligne directe."
        subject = f"[{incident.priority}] Nouvel incident"
    return mailbox.notify_side(
        session,
        incident,
        "command_centre",
        kind="urgent_incident",
        dedup_key=f"{key}:{incident.priority}",
        subject=f"{subject} – {incident.operator.name}, réf. {incident.operator_reference}",
        lead=lead,
        now=now,
        public_url=public_url,
    )


def _rejection(
    session: Session, incident: Incident, sequence: int, now: dt.datetime, public_url: str
) -> MailboxNotice | None:
    return mailbox.notify_side(
        session,
        incident,
        "operator",
        kind="rejection",
        dedup_key=f"rejection:{incident.id}:{sequence}",
        subject=f"[{incident.priority}] Fiche rejetée – réf. {incident.operator_reference}",
        lead="Le centre de commandement a rejeté la fiche ; le motif est sur la page de suivi.",
        now=now,
        public_url=public_url,
    )


def _escalation(
    session: Session, incident: Incident, now: dt.datetime, public_url: str
) -> MailboxNotice | None:
    if incident.status not in lifecycle.UNACKNOWLEDGED:
        return None  # acknowledged since: nothing left to warn about
    _, code = entity_of_side("command_centre", incident)
    priority = incident.escalated_for or incident.priority
    return mailbox.notify_side(
        session,
        incident,
        "command_centre",
        kind="escalation",
        dedup_key=f"escalation:{incident.id}:{code}:{priority}",
        subject=f"[{priority}] Incident non pris en compte – {incident.operator.name}, "
        f"réf. {incident.operator_reference}",
        lead=f"Cet incident {priority} n'a pas été pris en compte dans le délai prévu.",
        now=now,
        public_url=public_url,
    )
