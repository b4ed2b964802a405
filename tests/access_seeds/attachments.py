"""Seeds of the attachments' rows: a PNG the operator attached to the seeded incident
(``attachment_id``), and the multipart body of an upload (``attachment``)."""

from __future__ import annotations

import io
from typing import Any

from intake_service.access.rules.permissions import Principal
from intake_service.direct_line import attachments
from tests import attachment_files


def seed(setting: Any) -> dict[str, str]:
    config = setting.app.extensions["intake.config"]
    store = attachments.store_of(config)
    db = setting.app.extensions["intake.db"]
    prepared = attachments.prepare(
        store, io.BytesIO(attachment_files.png()), "photo.png", attachments.limits_of(config)
    )
    with attachments.staged_upload(store, prepared):
        with db.transaction() as session:
            attachment = attachments.add_attachment(
                session,
                Principal(role="operator", scope="tisseo", actor="test:access-matrix"),
                setting.incident_id,
                prepared,
                message_id=None,
                now=setting.clock.now,
            )
        store.publish(prepared.staged, attachment.storage_key)
    return {"attachment_id": attachment.id}


BODIES = {
    "attachment": ("multipart", lambda: {"file": (io.BytesIO(attachment_files.png()), "p.png")}),
    "attachment_form": (
        "form",
        lambda: {"file": (io.BytesIO(attachment_files.png()), "p.png")},
    ),
}
