"""An incident as the API, the feed and the pages show it: the full document, the
queue's summary, and its history as the viewer may read it (``access`` says which
details an operator sees).
"""

from __future__ import annotations

from typing import Any

from intake_service.access.rules.permissions import (
    OPERATOR_VISIBLE_DETAIL,
    Principal,
)
from intake_service.models import (
    Incident,
    StatusChange,
)


def history_for(principal: Principal | None, change: StatusChange) -> dict[str, Any]:
    """One status change as ``principal`` may see it (None: in full, for the feed)."""
    if principal is None or principal.role != "operator" or change.author_role == "operator":
        return {
            "status": change.status,
            "at": change.at,
            "author_role": change.author_role,
            "author": change.author,
            "detail": change.detail,
        }
    return {
        "status": change.status,
        "at": change.at,
        "author_role": change.author_role,
        "author": change.author_role,
        "detail": {k: v for k, v in change.detail.items() if k in OPERATOR_VISIBLE_DETAIL},
    }


def summary_document(incident: Incident) -> dict[str, Any]:
    """An incident in a list: no personal data (input of ``IncidentSummarySchema``)."""
    return {
        "id": incident.id,
        "operator_reference": incident.operator_reference,
        "received_at": incident.received_at,
        "updated_at": incident.updated_at,
        "occurred_at": incident.occurred_at,
        "status": incident.status,
        "priority": incident.priority,
        "state": incident.state,
        "primary_nature": incident.primary_nature,
        "version": incident.version,
    }


def incident_document(incident: Incident, viewer: Principal | None = None) -> dict[str, Any]:
    """The incident as the API and the feed show it (input of ``IncidentSchema``).

    ``viewer`` narrows what an operator sees of the command centre's actions.
    """
    competent_service = (
        {
            "kind": incident.service_kind,
            "code": incident.service_code,
            "name": incident.service_name,
        }
        if incident.service_code
        else None
    )
    return {
        "id": incident.id,
        "operator": incident.operator.code,
        "operator_reference": incident.operator_reference,
        "received_at": incident.received_at,
        "updated_at": incident.updated_at,
        "status": incident.status,
        "priority": incident.priority,
        "priority_reason": incident.priority_reason,
        "version": incident.version,
        "warnings": incident.warnings,
        "competent_service": competent_service,
        "police_zone": incident.police_zone,
        "insee_code": incident.insee_code,
        "routing_basis": incident.routing_basis,
        "routing_confidence": incident.routing_confidence,
        "status_history": [history_for(viewer, change) for change in incident.status_changes],
        "sheet": incident.sheet,
    }
