"""The command centre's queue: its service's open incidents, by priority then age."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import (
    Principal,
)
from intake_service.models import (
    Incident,
)
from intake_service.territory.rules.routing import UNROUTED_SERVICE
from schemas.vocabulary import OPEN_STATUSES


def command_centre_queue(
    session: Session,
    principal: Principal,
    *,
    statuses: Sequence[str],
    priorities: Sequence[str],
    limit: int,
) -> Sequence[Incident]:
    """The service's open incidents: by priority, then within it by rank, then most recent."""
    in_service = (
        Incident.service_code.is_(None)
        if principal.scope == UNROUTED_SERVICE
        else Incident.service_code == principal.scope
    )
    query = select(Incident).where(in_service, Incident.status.in_(statuses or OPEN_STATUSES))
    if priorities:
        query = query.where(Incident.priority.in_(priorities))
    return session.scalars(
        query.order_by(
            Incident.priority, Incident.priority_rank, Incident.received_at.desc()
        ).limit(limit)
    ).all()
