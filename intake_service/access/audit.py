"""The audit log: every read of personal data, every change, every export, every
sign-in (and failed one), every token created or revoked.

``record`` runs in the caller's transaction, so an audited read or change and its
entry are committed together. The entry names ids and codes, never the data read.
Where the action came from (address, request id) is taken from the request's
context when there is one.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal
from intake_service.models import AuditEntry
from intake_service.platform import logs

client_address: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "client_address", default=None
)
COMMAND_LINE = Principal(role="admin", scope="*", actor="command line")


def record(
    session: Session,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: str | None,
    *,
    now: dt.datetime,
    detail: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor=principal.actor[:200],
            role=principal.role,
            scope=principal.scope,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            address=client_address.get(),
            request_id=logs.request_id.get(),
            detail=dict(detail or {}),
        )
    )


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None
    resource_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def search(session: Session, query: AuditQuery, *, limit: int) -> Sequence[AuditEntry]:
    """Newest first."""
    statement = select(AuditEntry)
    if query.actor:
        statement = statement.where(AuditEntry.actor.contains(query.actor))
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.resource_id:
        statement = statement.where(AuditEntry.resource_id == query.resource_id)
    if query.since:
        statement = statement.where(AuditEntry.at >= query.since)
    if query.until:
        statement = statement.where(AuditEntry.at < query.until)
    return session.scalars(statement.order_by(AuditEntry.id.desc()).limit(limit)).all()


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "role": entry.role,
        "scope": entry.scope,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "address": entry.address,
        "request_id": entry.request_id,
        "detail": entry.detail,
    }
