"""Seeds of the duplicate reports' rows: a second tisseo incident in Toulouse (routed to
ddsp-31 as the seeded one), the ``<other_id>`` of a pair; deciding the pair « même
événement » groups the two (only ddsp-31 reaches that far: 200)."""

from __future__ import annotations

from typing import Any

BODIES = {
    "duplicate_same": ("json", lambda: {"decision": "same"}),
    "leave_group_form": ("form", lambda: {"decision": "leave"}),
}


def seed(setting: Any) -> dict[str, str]:
    return {"other_id": setting.new_incident()}
