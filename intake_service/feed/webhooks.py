"""Operators' webhooks: status changes of their incidents and the direct line's messages
and requisitions, POSTed with an HMAC signature.

A delivery row is written in the transaction of the status change; the webhook
worker sends it later, retries with backoff, and records failures where the
operator can read them. Nothing here ever touches the command-centre feed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import socket
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from sqlalchemy import Integer, String, Table, bindparam, func, insert, literal, select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import OPERATOR_VISIBLE_DETAIL, Principal
from intake_service.feed.rules.addresses import refusal
from intake_service.models import StatusChange, Webhook, WebhookDelivery
from intake_service.platform.db import PendingStatement

SIGNATURE_HEADER = "X-Intake-Signature"
# After each failed attempt, wait this long; after the last one, give up.
BACKOFF = (
    dt.timedelta(seconds=10),
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=1),
    dt.timedelta(hours=3),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A claimed delivery is hidden from other workers this long while it is sent
# (the sender makes it longer than its batch can take).
LEASE = dt.timedelta(seconds=60)


class WebhookRefused(ValueError):
    """The URL cannot be registered; the message says why."""


Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host``, in the resolver's order, each once."""
    found = [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    return list(dict.fromkeys(found))


def check_target(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> None:
    """Refuse URLs that are not http(s) or that point at private networks (SSRF)."""
    if allow_private:
        _parts(url)
    else:
        addresses_for(url, allow_private=False, resolver=resolver)


def _parts(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:  # "Port out of range 0-65535"
        raise WebhookRefused(f"The webhook URL has an invalid port: {exc}.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("The webhook URL must be an absolute http(s) URL.")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def addresses_for(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> list[str]:
    """The addresses the sender connects to, each checked (unless ``allow_private``): the
    POST goes there, never to a second resolution of the name, where a DNS answer
    changed meanwhile would reach elsewhere (rebinding)."""
    host, port = _parts(url)
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise WebhookRefused(f"The host {host!r} does not resolve.") from exc
    if not addresses:
        raise WebhookRefused(f"The host {host!r} does not resolve.")
    if not allow_private:
        for address in addresses:
            why = refusal(address)
            if why is not None:
                raise WebhookRefused(why)
    return addresses


def register(
    session: Session,
    principal: Principal,
    operator_id: int,
    url: str,
    *,
    now: dt.datetime,
    allow_private: bool,
) -> tuple[Webhook, str | None]:
    """Set the operator's webhook URL; a new secret is made (and returned) on first registration."""
    check_target(url, allow_private=allow_private)
    audit.record(session, principal, "webhook.register", "operator", str(operator_id), now=now)
    webhook = session.get(Webhook, operator_id)
    if webhook is None:
        secret = secrets.token_hex(32)
        webhook = Webhook(operator_id=operator_id, url=url, secret=secret, created_at=now)
        session.add(webhook)
        return webhook, secret
    webhook.url = url
    return webhook, None


def unregister(session: Session, operator_id: int) -> bool:
    webhook = session.get(Webhook, operator_id)
    if webhook is None:
        return False
    session.delete(webhook)
    return True


class IncidentRef(Protocol):
    """What a webhook delivery needs of its incident (an ``Incident``, or a row of one)."""

    @property
    def id(self) -> str: ...
    @property
    def operator_id(self) -> int: ...
    @property
    def operator_reference(self) -> str: ...


# One INSERT … SELECT: a row only if the operator has a webhook, without reading it
# first (this runs on every status change, most without webhook). Built once; the
# parameters are prefixed so that it can join other statements (db.write_pending).
# Core tables, not the mapped classes: given parameters, an ORM insert would be a bulk insert.
_deliveries = cast(Table, WebhookDelivery.__table__)
_webhooks = cast(Table, Webhook.__table__)
_DELIVERY_INSERT = insert(_deliveries).from_select(
    [
        "operator_id",
        "event_id",
        "incident_id",
        "payload",
        "state",
        "attempts",
        "next_attempt_at",
        "created_at",
    ],
    select(
        _webhooks.c.operator_id,
        bindparam("webhook_event_id", type_=String),
        bindparam("webhook_incident_id", type_=String),
        bindparam("webhook_payload", type_=_deliveries.c.payload.type),
        literal("pending", String),
        literal(0, Integer),
        bindparam("webhook_now", type_=_deliveries.c.next_attempt_at.type),
        bindparam("webhook_now", type_=_deliveries.c.created_at.type),
    ).where(_webhooks.c.operator_id == bindparam("webhook_operator_id", type_=Integer)),
)


def status_change_delivery(
    incident: IncidentRef, change: StatusChange, now: dt.datetime
) -> PendingStatement:
    """The statement queuing the status change for the operator's webhook, if it has one."""
    event_id = str(uuid.uuid4())
    payload = {
        "id": event_id,
        "type": "incident.status_changed",
        "incident_id": incident.id,
        "operator_reference": incident.operator_reference,
        "status": change.status,
        "at": change.at.isoformat(),
        "author_role": change.author_role,
        "detail": {k: v for k, v in change.detail.items() if k in OPERATOR_VISIBLE_DETAIL},
    }
    return _delivery(incident, event_id, payload, now)


def _delivery(
    incident: IncidentRef, event_id: str, payload: dict[str, Any], now: dt.datetime
) -> PendingStatement:
    """The statement queuing ``payload`` for the operator's webhook, if it has one."""
    return PendingStatement(
        _DELIVERY_INSERT,
        {
            "webhook_event_id": event_id,
            "webhook_incident_id": incident.id,
            "webhook_payload": payload,
            "webhook_now": now,
            "webhook_operator_id": incident.operator_id,
        },
    )


def enqueue_event(
    session: Session,
    incident: IncidentRef,
    event_type: str,
    body: dict[str, Any],
    now: dt.datetime,
) -> None:
    """Queue an event of the direct line (a message, a requisition) for the operator's
    webhook, if it registered one. ``body`` is what the operator may see of it."""
    event_id = str(uuid.uuid4())
    payload = {
        "id": event_id,
        "type": event_type,
        "incident_id": incident.id,
        "operator_reference": incident.operator_reference,
        **body,
    }
    delivery = _delivery(incident, event_id, payload, now)
    with session.no_autoflush:
        session.execute(delivery.statement, delivery.params)


def enqueue_status_change(
    session: Session, incident: IncidentRef, change: StatusChange, now: dt.datetime
) -> None:
    """Queue the status change for the operator's webhook, if it registered one."""
    enqueue_status_changes(session, [(incident, change)], now)


def enqueue_status_changes(
    session: Session,
    changes: Sequence[tuple[IncidentRef, StatusChange]],
    now: dt.datetime,
) -> None:
    """Queue status changes for their operators' webhooks: one executemany, which
    psycopg sends in one round trip (the relay marks a batch of 200 ``queued``)."""
    if not changes:
        return
    params = [
        dict(status_change_delivery(incident, change, now).params) for incident, change in changes
    ]
    # The delivery row does not reference the incident's row: no need to flush the
    # pending incident first (a flush here would cost a second write of it later).
    with session.no_autoflush:
        session.execute(_DELIVERY_INSERT, params)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` HMAC of ``timestamp.body``: the operator checks it with its secret.

    The first signature this service sent (``X-Intake-Signature``), kept for one release
    beside the Standard Webhooks one (``standard_signature``); docs/feed.md says so."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def standard_secret(secret: str) -> str:
    """The operator's secret as Standard Webhooks writes it (``whsec_`` + base64 of the
    key), for its verifying libraries: the key is the secret's bytes."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def standard_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """``webhook-signature`` (Standard Webhooks): ``v1,`` + base64 HMAC-SHA256 of
    ``id.timestamp.body``; the receiver refuses a timestamp too far from its clock."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret.encode(), signed, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signed_headers(secret: str, message_id: str, timestamp: str, body: bytes) -> dict[str, str]:
    """The headers of one POST: Standard Webhooks', and the first ones for one release."""
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": standard_signature(secret, message_id, timestamp, body),
        "X-Intake-Timestamp": timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    incident_id: str
    url: str
    secret: str
    body: bytes
    # The message's id (``webhook-id``): the same at each retry, for the receiver's dedup.
    event_id: str = ""
    operator_id: int = 0


def claim_due(
    session: Session,
    now: dt.datetime,
    limit: int,
    lease: dt.timedelta = LEASE,
    *,
    per_operator: int | None = None,
    per_incident: int = 4,
    room: Mapping[int, int] | None = None,
    skip_incidents: Collection[str] = (),
) -> list[ClaimedDelivery]:
    """Lease due deliveries to this worker, oldest first: ``limit`` of them.

    With ``per_operator``, ``limit`` counts connections instead: the deliveries of one
    incident go one after the other on one (at most ``per_incident`` of them), and an
    operator gets at most ``per_operator`` connections, less those ``room`` says it
    already has (operator id → connections it may still open), so one slow operator's
    backlog never fills the claim. ``skip_incidents``: incidents with a delivery still
    in flight, whose next one waits for it (an operator never sees "acknowledged"
    before "queued").
    """
    due = [WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now]
    if skip_incidents:
        due.append(WebhookDelivery.incident_id.not_in(list(skip_incidents)))
    rows_wanted = limit
    if per_operator is not None:
        rows_wanted = limit * per_incident
        # The oldest few of each operator (a window: FOR UPDATE refuses one in its own
        # query, so the rows are locked by id below).
        ranked = (
            select(
                WebhookDelivery.id,
                func.row_number()
                .over(
                    partition_by=WebhookDelivery.operator_id,
                    order_by=(WebhookDelivery.next_attempt_at, WebhookDelivery.id),
                )
                .label("rank"),
            )
            .where(*due)
            .subquery()
        )
        most = per_operator * per_incident
        due.append(WebhookDelivery.id.in_(select(ranked.c.id).where(ranked.c.rank <= most)))
    rows = session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.operator_id == WebhookDelivery.operator_id)
        .where(*due)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(rows_wanted)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    ).all()
    connections_left = dict(room or {})
    taken_by_incident: dict[str, int] = {}
    claimed = []
    for delivery, webhook in rows:
        if per_operator is not None:
            taken = taken_by_incident.get(delivery.incident_id)
            if taken is None:
                left = connections_left.setdefault(delivery.operator_id, per_operator)
                if left <= 0 or len(taken_by_incident) >= limit:
                    continue  # locked for this transaction only, not leased: still due
                connections_left[delivery.operator_id] = left - 1
                taken = 0
            elif taken >= per_incident:
                continue
            taken_by_incident[delivery.incident_id] = taken + 1
        delivery.next_attempt_at = now + lease
        body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
        claimed.append(
            ClaimedDelivery(
                delivery.id,
                delivery.incident_id,
                webhook.url,
                webhook.secret,
                body,
                event_id=delivery.event_id,
                operator_id=delivery.operator_id,
            )
        )
    return claimed


def record_attempt(
    session: Session,
    delivery_id: int,
    *,
    now: dt.datetime,
    status_code: int | None,
    error: str | None,
) -> None:
    """Delivered on a 2xx; otherwise retried later, or given up after the last attempt."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.state != "pending":
        return  # settled meanwhile (a late answer must not undo "delivered")
    delivery.attempts += 1
    delivery.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300:
        delivery.state = "delivered"
        delivery.delivered_at = now
        delivery.last_error = None
        return
    delivery.last_error = (error or f"HTTP {status_code}")[:500]
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = "failed"
    else:
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]


def deliveries(
    session: Session, operator_id: int, state: str | None, limit: int
) -> Sequence[WebhookDelivery]:
    query = select(WebhookDelivery).where(WebhookDelivery.operator_id == operator_id)
    if state:
        query = query.where(WebhookDelivery.state == state)
    return session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)).all()


def delivery_document(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "incident_id": delivery.incident_id,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "payload": delivery.payload,
    }
