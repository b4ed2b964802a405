"""CCTV requisitions: the police side asks the operator for an incident's footage
before it is erased; the operator answers step by step (``rules/cctv.py``).

Each use case runs in the caller's transaction and never commits. A request or a step
leaves, in the same transaction: its ``incident.cctv_requisition_changed`` event on the
outbox (the CIC's feed), the operator's webhook delivery, its audit entry; a request
also posts a message in the incident's conversation and a ``cctv_requested`` notice to
the operator's functional mailbox. ``alert_due`` (periodic) writes the ``cctv_deadline``
notices 24 h and 2 h before the deadline, once each. Reads are audited: a requisition
names people (who asked, who received the extract).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.direct_line import messages
from intake_service.direct_line.rules import cctv as rules
from intake_service.directory import mailbox
from intake_service.feed import webhooks
from intake_service.intake import queries
from intake_service.intake.events import record_event
from intake_service.models import CctvRequisition, Incident, PoliceStation
from intake_service.platform.errors import Conflict, Forbidden, NotFound, Refused, VersionRequired
from intake_service.platform.labels import date_time
from intake_service.platform.preconditions import IfMatch, as_version
from schemas.cctv import CctvRequisitionSchema

CHANGED = "incident.cctv_requisition_changed"
# A hand-over time a little ahead of the service's clock is the caller's clock.
HANDED_OVER_SKEW = dt.timedelta(minutes=5)
# Dumps the webhook's JSON as the feed's envelope does (ISO instants).
_schema = CctvRequisitionSchema()


def requisition_document(requisition: CctvRequisition, now: dt.datetime) -> dict[str, Any]:
    """The requisition as the API, the feed, the webhook and the pages carry it."""
    left = rules.time_left(requisition.erase_deadline, now)
    return {
        "id": requisition.id,
        "incident_id": requisition.incident_id,
        "state": requisition.state,
        "what": requisition.what,
        "requested_at": requisition.requested_at,
        "requested_by": {
            "role": requisition.requested_by_role,
            "organisation": requisition.requested_by_org,
            "person": requisition.requested_by,
        },
        "erase_deadline": requisition.erase_deadline,
        "seconds_left": int(left.total_seconds()) if left is not None else None,
        "extraction_reference": requisition.extraction_reference,
        "extracted_at": requisition.extracted_at,
        "extracted_in_time": rules.extracted_in_time(
            requisition.extracted_at, requisition.erase_deadline
        ),
        "handed_over_to": requisition.handed_over_to,
        "handed_over_at": requisition.handed_over_at,
        "reason": requisition.reason,
        "closed_at": requisition.closed_at,
        "alerted_24h_at": requisition.alerted_24h_at,
        "alerted_2h_at": requisition.alerted_2h_at,
        "updated_at": requisition.updated_at,
        "version": requisition.version,
    }


def _station_service(session: Session, principal: Principal) -> str | None:
    station = session.get(PoliceStation, principal.scope)
    return station.service_code if station is not None else None


def incident_in_scope(
    session: Session, principal: Principal, incident_id: str, *, lock: bool = False
) -> Incident:
    """The incident, if the caller works its requisitions: its operator, its service's
    CIC, or a station officer of its service (who reads no more of the sheet than the
    requisitions). Else NotFound, as an absent incident."""
    if principal.role != "station_officer":
        if lock:
            return queries.get_for_update(session, principal, incident_id)
        return queries.get_incident(session, principal, incident_id)
    try:
        uuid.UUID(incident_id)
    except ValueError:
        raise NotFound(incident_id) from None
    incident = session.get(Incident, incident_id)
    service = _station_service(session, principal)
    if incident is None or service is None or incident.service_code != service:
        raise NotFound(incident_id)
    if lock:
        # As queries.get_for_update: lock the row alone (not its joined operator), re-read.
        session.execute(select(Incident.id).where(Incident.id == incident.id).with_for_update())
        session.refresh(incident)
    return incident


def _deadline(incident: Incident) -> dt.datetime | None:
    """The sheet's ``video.erased_after`` (stored as ISO 8601 in the sheet's JSON)."""
    text = (incident.sheet.get("video") or {}).get("erased_after")
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _publish(
    session: Session, incident: Incident, requisition: CctvRequisition, now: dt.datetime
) -> None:
    """The change on the CIC's feed and on the operator's webhook (both may see it all)."""
    session.flush()
    document = requisition_document(requisition, now)
    record_event(session, incident, CHANGED, now, {"cctv_requisition": document})
    webhooks.enqueue_event(
        session, incident, CHANGED, {"cctv_requisition": _schema.dump(document)}, now
    )


def request_footage(
    session: Session,
    principal: Principal,
    incident_id: str,
    what: str,
    *,
    now: dt.datetime,
    line: messages.Line,
) -> CctvRequisition:
    """Ask the operator for the incident's footage, before the sheet's erase date.

    Raises NotFound outside the caller's scope, Forbidden for a role that does not
    request, Refused when the sheet says there is no video, or it is already erased.
    """
    if principal.role not in rules.REQUESTER_ROLES:
        raise Forbidden("only the police side requests the footage")
    incident = incident_in_scope(session, principal, incident_id, lock=True)
    if incident.pseudonymised_at is not None:
        raise Refused(None, "The incident's personal data has been purged.")
    if (incident.sheet.get("video") or {}).get("exists") != "yes":
        raise Refused("video.exists", "The sheet does not say that video exists.")
    # The deadline is the sheet's at the request: a later amendment of the erase date
    # does not move it (docs/decisions.md).
    deadline = _deadline(incident)
    if deadline is not None and deadline <= now:
        raise Refused("video.erased_after", "The footage is already erased, by the sheet.")
    requisition = CctvRequisition(
        id=str(uuid.uuid4()),
        incident_id=incident.id,
        state="requested",
        what=what,
        requested_at=now,
        requested_by=principal.actor[:200],
        requested_by_role=principal.role,
        requested_by_org=principal.scope,
        erase_deadline=deadline,
        updated_at=now,
        version=1,
    )
    session.add(requisition)
    _tell_in_conversation(session, principal, incident, requisition, now=now, line=line)
    _publish(session, incident, requisition, now)
    deadline_text = f", avant l'effacement du {date_time(deadline)}" if deadline else ""
    mailbox.notify_side(
        session,
        incident,
        "operator",
        kind="cctv_requested",
        dedup_key=f"cctv-requested:{requisition.id}",
        subject=f"[{incident.priority}] Réquisition d'images – {incident.operator_reference}",
        lead=f"Les images de vidéoprotection de l'incident sont requises{deadline_text}.",
        now=now,
        public_url=line.public_url,
    )
    audit.record(
        session,
        principal,
        "incident.cctv.request",
        "incident",
        incident.id,
        now=now,
        detail={"requisition": requisition.id},
    )
    return requisition


def _tell_in_conversation(
    session: Session,
    principal: Principal,
    incident: Incident,
    requisition: CctvRequisition,
    *,
    now: dt.datetime,
    line: messages.Line,
) -> None:
    """The request as a message of the police side in the incident's conversation.

    A station officer is not a party to the conversation: its request is posted on the
    side of the incident's CIC, the text naming the station (and the audit entry the
    officer)."""
    speaker = principal
    if principal.role == "station_officer":
        speaker = Principal(
            role="command_centre",
            scope=incident.service_code or "",
            actor=f"{principal.actor} (commissariat {principal.scope})"[:200],
        )
    deadline = requisition.erase_deadline
    text = f"Réquisition des images de vidéoprotection : {requisition.what}"
    if deadline is not None:
        text += f" (effacement le {date_time(deadline)})"
    if principal.role == "station_officer":
        text += f" – demandée par le commissariat {principal.scope}"
    messages.post_message(
        session,
        speaker,
        incident.id,
        messages.NewMessage(kind="message", text=text[:4000]),
        now=now,
        line=line,
    )


def get_requisition(
    session: Session, principal: Principal, requisition_id: str, *, now: dt.datetime
) -> CctvRequisition:
    """One requisition, if its incident is in the caller's scope: audited."""
    requisition = _find(session, requisition_id)
    incident_in_scope(session, principal, requisition.incident_id)
    audit.record(
        session,
        principal,
        "incident.cctv.read",
        "incident",
        requisition.incident_id,
        now=now,
        detail={"requisition": requisition.id},
    )
    return requisition


def _find(session: Session, requisition_id: str) -> CctvRequisition:
    try:
        uuid.UUID(requisition_id)
    except ValueError:
        raise NotFound(requisition_id) from None
    requisition = session.get(CctvRequisition, requisition_id)
    if requisition is None:
        raise NotFound(requisition_id)
    return requisition


def list_requisitions(
    session: Session, principal: Principal, incident_id: str, *, now: dt.datetime
) -> Sequence[CctvRequisition]:
    """The incident's requisitions, oldest first: audited."""
    incident = incident_in_scope(session, principal, incident_id)
    audit.record(session, principal, "incident.cctv.read", "incident", incident.id, now=now)
    return of_incident(session, incident.id)


def of_incident(session: Session, incident_id: str) -> Sequence[CctvRequisition]:
    """The requisitions of an incident (the caller has checked the scope, audits the read)."""
    return session.scalars(
        select(CctvRequisition)
        .where(CctvRequisition.incident_id == incident_id)
        .order_by(CctvRequisition.requested_at, CctvRequisition.id)
    ).all()


def step(
    session: Session,
    principal: Principal,
    requisition_id: str,
    body: dict[str, Any],
    *,
    expected_version: int | IfMatch | None,
    now: dt.datetime,
) -> CctvRequisition:
    """Take the requisition to ``body["state"]``, with that step's fields.

    Raises NotFound outside the caller's scope, Forbidden for a role that does not make
    this step, VersionRequired without ``expected_version``, Conflict for a stale one,
    Refused for a step its state does not allow (409) or a missing field (422).
    """
    # The incident first, then the requisition: the order every use case locks them in.
    requisition = _find(session, requisition_id)
    incident = incident_in_scope(session, principal, requisition.incident_id, lock=True)
    session.refresh(requisition, with_for_update=True)
    target = body["state"]
    if not rules.may_step(principal.role, target):
        raise Forbidden("only the operator answers a requisition")
    expected_version = as_version(expected_version, requisition.version)
    if expected_version is None:
        raise VersionRequired(requisition.version, "requisition")
    if expected_version != requisition.version:
        raise Conflict(requisition.version, "requisition")
    given = [name for name, value in body.items() if value not in (None, "")]
    refused = rules.check_step(requisition.state, target, given)
    if refused is not None:
        raise Refused(refused.field, refused.message, conflict=refused.conflict)
    if target == "extracted":
        requisition.extraction_reference = body["extraction_reference"]
        requisition.extracted_at = now
    elif target == "handed_over":
        handed_over_at = body.get("handed_over_at") or now
        if handed_over_at > now + HANDED_OVER_SKEW:
            raise Refused("handed_over_at", "A hand-over is recorded once made.", conflict=False)
        requisition.handed_over_to = body["handed_over_to"]
        requisition.handed_over_at = handed_over_at
    else:
        requisition.reason = body["reason"]
    if target in rules.FINAL_STATES:
        requisition.closed_at = now
    requisition.state = target
    requisition.updated_at = now
    requisition.version += 1
    _publish(session, incident, requisition, now)
    audit.record(
        session,
        principal,
        "incident.cctv.step",
        "incident",
        incident.id,
        now=now,
        detail={"requisition": requisition.id, "state": target},
    )
    return requisition


def alert_due(session: Session, now: dt.datetime, public_url: str) -> int:
    """Write the 24 h and 2 h alerts of the requisitions still ``requested``, to the
    operator's functional mailbox, once each (periodic job); return how many were due.

    Once each: the alert's time is set on the requisition in the notice's transaction,
    the notice's dedup key (``cctv-24h:<id>``) holds against a second job, and rows
    another job holds are skipped (``skip_locked``)."""
    horizon = now + max(before for _, before in rules.ALERTS)
    candidates = session.scalars(
        select(CctvRequisition)
        .where(
            CctvRequisition.state == "requested",
            CctvRequisition.erase_deadline.is_not(None),
            CctvRequisition.erase_deadline > now,
            CctvRequisition.erase_deadline <= horizon,
            CctvRequisition.alerted_2h_at.is_(None),
        )
        .order_by(CctvRequisition.erase_deadline)
        .limit(500)
        .with_for_update(skip_locked=True)
    ).all()
    due = 0
    for requisition in candidates:
        alerted = {"24h": requisition.alerted_24h_at, "2h": requisition.alerted_2h_at}
        name = rules.alert_due(requisition.state, requisition.erase_deadline, alerted, now)
        if name is None:
            continue
        due += 1
        incident = session.get(Incident, requisition.incident_id)
        assert incident is not None  # a foreign key
        mailbox.notify_side(
            session,
            incident,
            "operator",
            kind="cctv_deadline",
            dedup_key=f"cctv-{name}:{requisition.id}",
            subject=f"[{incident.priority}] Images effacées dans moins de {name[:-1]} h – "
            f"{incident.operator_reference}",
            lead="Une réquisition d'images de vidéoprotection est toujours sans extraction : "
            f"{rules.countdown(requisition.erase_deadline, now)} "
            f"(le {date_time(requisition.erase_deadline)}).",
            now=now,
            public_url=public_url,
        )
        if name == "2h":
            requisition.alerted_2h_at = now
        # The 2 h alert passes the 24 h one: it is never written after it.
        requisition.alerted_24h_at = requisition.alerted_24h_at or now
    return due
