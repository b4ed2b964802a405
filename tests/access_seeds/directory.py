"""Seeds of the directory's rows: the entity of gpo-toulouse (``<kind>/<code>``), read by
who works with it; the rows that create or replace an entity act on tisseo's, removed
before each request (``fresh: directory_entity``), so each caller's request creates it anew.

Who sees gpo-toulouse (tests/access_seeds/gpo.py: it lists ddsp-31 and tisseo): its
referent and partners, tisseo, ddsp-31 and the admin; the others get 404 (mistral,
ddsp-83, the station). Not a service's entity: which operators work with a service
depends on the rows before (mistral's sheet of ``POST /api/v1/incidents`` is in Toulouse).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from intake_service.models import DirectoryEntity, DirectoryReferent


def seed(setting: Any) -> dict[str, str]:
    db = setting.app.extensions["intake.db"]
    now = setting.clock.now
    with db.transaction() as session:
        session.add(
            DirectoryEntity(
                kind="gpo",
                code="gpo-toulouse",
                name="GPO transports Toulouse",
                mailbox="gpo@toulouse.example.org",
                hours="24 h/24",
                notices=["urgent_incident"],
                digest=False,
                created_at=now,
                updated_at=now,
                version=1,
                referents=[
                    DirectoryReferent(
                        position=0,
                        name="Commandant Martin",
                        function="Référent du GPO",
                        phone="+33561127777",
                        email="martin@gpo-toulouse.example.org",
                    )
                ],
            )
        )
    return {"kind": "gpo", "code": "gpo-toulouse"}


def _fresh_entity(setting: Any) -> dict[str, str]:
    db = setting.app.extensions["intake.db"]
    with db.transaction() as session:
        session.execute(
            delete(DirectoryEntity).where(
                DirectoryEntity.kind == "operator", DirectoryEntity.code == "tisseo"
            )
        )
    return {"kind": "operator", "code": "tisseo"}


FRESH = {"directory_entity": _fresh_entity}
BODIES = {
    "directory_entity": (
        "json",
        lambda: {
            "name": "PC sûreté Tisséo",
            "mailbox": "pc-surete@tisseo.example.org",
            "referents": [{"name": "Chef de poste", "phone": "05 61 00 00 00"}],
        },
    ),
    "directory_form": (
        "form",
        lambda: {
            "name": "PC sûreté Tisséo",
            "mailbox": "pc-surete@tisseo.example.org",
            "hours": "24 h/24",
            "notices": ["urgent_incident", "rejection"],
            "referents": "1",
            "referents-0-name": "Chef de poste",
            "referents-0-phone": "05 61 00 00 00",
        },
    ),
}
