"""Seeds of the CCTV requisitions' rows: a requisition on the matrix's incident (tisseo's,
routed to ddsp-31), ``<requisition_id>``. Read by tisseo, ddsp-31 and the station officer
of csp-toulouse (of ddsp-31); answered by tisseo only. A step row sends no If-Match: the
operator that may make it is answered 428, so the requisition never changes state; the
page's step acts on a new requisition per request (``fresh: cctv_requisition``).
"""

from __future__ import annotations

import uuid
from typing import Any

from intake_service.models import CctvRequisition


def _requisition(setting: Any) -> str:
    db = setting.app.extensions["intake.db"]
    now = setting.clock.now
    requisition_id = str(uuid.uuid4())
    with db.transaction() as session:
        session.add(
            CctvRequisition(
                id=requisition_id,
                incident_id=setting.incident_id,
                state="requested",
                what="Caméras embarquées du bus 1742",
                requested_at=now,
                requested_by="test:access-matrix",
                requested_by_role="command_centre",
                requested_by_org="ddsp-31",
                erase_deadline=None,
                updated_at=now,
                version=1,
            )
        )
    return requisition_id


def seed(setting: Any) -> dict[str, str]:
    return {"requisition_id": _requisition(setting)}


# The page's step extracts the footage: a new requisition per request.
FRESH = {"cctv_requisition": lambda setting: {"requisition_id": _requisition(setting)}}


BODIES = {
    "cctv_request": ("json", lambda: {"what": "Caméras embarquées du bus 1742"}),
    "cctv_step": ("json", lambda: {"state": "extracted", "extraction_reference": "EXT-1"}),
    "cctv_request_form": ("form", lambda: {"what": "Caméras embarquées du bus 1742"}),
    "cctv_step_form": (
        "form",
        lambda: {"state": "extracted", "extraction_reference": "EXT-1", "version": "1"},
    ),
}
