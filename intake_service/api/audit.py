"""``/api/v1/audit``: the admin searches the audit log and exports it (CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, current_app, g
from flask.views import MethodView

from intake_service.access import audit
from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from schemas.audit import AuditArgsSchema, AuditPageSchema

blp = ApiBlueprint(
    "audit", __name__, url_prefix="/api/v1/audit", description="The audit log (admin only)."
)
COLUMNS = (
    "id",
    "at",
    "actor",
    "role",
    "scope",
    "action",
    "resource_type",
    "resource_id",
    "address",
    "request_id",
    "detail",
)


def _entries(filters: dict[str, Any], export: bool) -> list[dict[str, Any]]:
    limit = filters.pop("limit")
    with current_app.extensions["intake.db"].transaction() as session:
        found = [
            audit.entry_document(entry)
            for entry in audit.search(session, audit.AuditQuery(**filters), limit=limit)
        ]
        if export:
            # Exports are audited too (the search itself reveals no personal data).
            audit.record(
                session,
                current_principal(),
                "audit.export",
                "audit",
                None,
                now=g.now,
                detail={"rows": len(found)},
            )
    return found


@blp.route("")
class AuditLog(MethodView):
    @require("audit.read")
    @blp.arguments(AuditArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, filters: dict[str, Any]) -> Any:
        """Search the audit log

        Newest first; filter by actor (part of), action, resource id and time range.
        """
        return {"items": _entries(filters, export=False)}


@blp.route("/export")
class AuditExport(MethodView):
    @require("audit.read")
    @blp.arguments(AuditArgsSchema, location="query")
    @blp.response(200, content_type="text/csv", description="The entries as CSV")
    def get(self, filters: dict[str, Any]) -> Any:
        """Export the audit log as CSV (the export is itself audited)"""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        for entry in _entries(filters, export=True):
            writer.writerow({**entry, "at": entry["at"].isoformat(), "detail": entry["detail"]})
        return Response(
            buffer.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=audit.csv"},
        )
