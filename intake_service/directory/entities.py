"""The directory's use cases: read the entities a caller works with, keep one's own.

Who sees which entity is ``rules/visibility.py``, given the relations read here from
the incidents, stations and GPOs. An entity outside the caller's sight is answered
as absent (``NotFound``); one in sight that is not the caller's to keep is
``Forbidden``. A replacement names the version it changes (``expected_version``,
the API's If-Match): none is ``VersionRequired``, a stale one ``Conflict``. Every
change is audited (``directory.change``); reads are not: the directory holds the
entities' working contacts, not the sheets' personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.directory.mailbox import find_entity
from intake_service.directory.rules.notices import DEFAULT_NOTICES, ENTITY_KINDS
from intake_service.directory.rules.visibility import (
    Entity,
    Relations,
    may_edit,
    may_see,
    visible_entities,
)
from intake_service.models import (
    DirectoryEntity,
    DirectoryReferent,
    Gpo,
    GpoPartner,
    Incident,
    Operator,
    PoliceStation,
    PoliceZone,
)
from intake_service.platform.errors import Conflict, Forbidden, NotFound, VersionRequired
from intake_service.platform.preconditions import IfMatch, as_version
from intake_service.territory.rules.routing import PREFECTURE_DE_POLICE, UNROUTED_SERVICE

# The order of the directory's sections.
KIND_ORDER = {kind: index for index, kind in enumerate(ENTITY_KINDS)}
FIELDS = ("name", "mailbox", "hours", "notices", "digest")


class NotCreated(Exception):
    """A version is named for an entity that does not exist yet, or a creation only
    (``If-None-Match: *``) finds one that does (``exists``): 412."""

    def __init__(self, entity: str, *, exists: bool = False) -> None:
        super().__init__(entity)
        self.exists = exists


# --- what visibility depends on -------------------------------------------------------


def read_relations(session: Session, principal: Principal) -> Relations:
    """The relations ``visibility`` needs for this caller (only the incidents it may use)."""
    stations = {
        code: service
        for code, service in session.execute(select(PoliceStation.code, PoliceStation.service_code))
    }
    gpo_services: dict[str, frozenset[str]] = {}
    gpo_operators: dict[str, frozenset[str]] = {}
    for gpo in session.scalars(select(Gpo)):
        gpo_services[gpo.code] = frozenset(str(code) for code in gpo.services)
        gpo_operators[gpo.code] = frozenset(str(code) for code in gpo.operators)
    partners: dict[str, set[str]] = {}
    for gpo_code, code in session.execute(select(GpoPartner.gpo_code, GpoPartner.code)):
        partners.setdefault(gpo_code, set()).add(code)
    return Relations(
        routes=_routes(session, principal, stations),
        station_services=stations,
        gpo_services=gpo_services,
        gpo_operators=gpo_operators,
        gpo_partners={code: frozenset(found) for code, found in partners.items()},
    )


def _routes(
    session: Session, principal: Principal, stations: Mapping[str, str | None]
) -> frozenset[tuple[str, str]]:
    """The distinct (operator, service) pairs of the incidents the caller's sight uses."""
    service = func.coalesce(Incident.service_code, UNROUTED_SERVICE)
    query = select(Operator.code, service).join(Operator, Operator.id == Incident.operator_id)
    if principal.role == "operator":
        query = query.where(Operator.code == principal.scope)
    elif principal.role == "command_centre":
        query = query.where(service == principal.scope)
    elif principal.role == "station_officer" and stations.get(principal.scope):
        query = query.where(Incident.service_code == stations[principal.scope])
    else:
        return frozenset()
    return frozenset((str(op), str(svc)) for op, svc in session.execute(query.distinct()))


# --- reading --------------------------------------------------------------------------


def current_version(session: Session, kind: str, code: str) -> int | None:
    """The entity's version, None when it does not exist (says nothing of who may see it)."""
    return session.scalar(
        select(DirectoryEntity.version).where(
            DirectoryEntity.kind == kind, DirectoryEntity.code == code
        )
    )


def list_entities(session: Session, principal: Principal) -> list[DirectoryEntity]:
    """The entities the caller may see, by kind (operators first) then name."""
    visible = visible_entities(principal.role, principal.scope, read_relations(session, principal))
    found = [
        entity
        for entity in session.scalars(select(DirectoryEntity))
        if visible is None or (entity.kind, entity.code) in visible
    ]
    return sorted(found, key=lambda e: (KIND_ORDER.get(e.kind, 99), e.name.lower(), e.code))


def get_entity(session: Session, principal: Principal, kind: str, code: str) -> DirectoryEntity:
    """One entity; NotFound when absent or not the caller's to see."""
    entity = find_entity(session, kind, code) if kind in ENTITY_KINDS else None
    if entity is None or not may_see(
        principal.role, principal.scope, (kind, code), read_relations(session, principal)
    ):
        raise NotFound(f"{kind}/{code}")
    return entity


def editable(principal: Principal, entity: Entity) -> bool:
    return may_edit(principal.role, principal.scope, entity)


def check_editable(session: Session, principal: Principal, kind: str, code: str) -> None:
    """Forbidden when the caller sees the entity but may not keep it; NotFound when it
    does not see it, or when nothing of that kind and code exists to describe."""
    if kind not in ENTITY_KINDS or reference_name(session, kind, code) is None:
        raise NotFound(f"{kind}/{code}")
    if editable(principal, (kind, code)):
        return
    if may_see(principal.role, principal.scope, (kind, code), read_relations(session, principal)):
        raise Forbidden(f"{kind}/{code}")
    raise NotFound(f"{kind}/{code}")


def reference_name(session: Session, kind: str, code: str) -> str | None:
    """The name of what the entity describes (the operator, station...), None if unknown.

    A directory entity describes something the deployment knows: an operator, a
    police service of the zone table (or the fallback desk), a station, a GPO or a
    GPO's partner.
    """
    if kind == "operator":
        return session.scalar(select(Operator.name).where(Operator.code == code))
    if kind == "police_service":
        if code == UNROUTED_SERVICE:
            return "File nationale de secours"
        if code == PREFECTURE_DE_POLICE[0]:
            return PREFECTURE_DE_POLICE[1]
        return session.scalar(
            select(PoliceZone.service_name).where(PoliceZone.service_code == code).limit(1)
        )
    if kind == "police_station":
        return session.scalar(select(PoliceStation.name).where(PoliceStation.code == code))
    if kind == "gpo":
        return session.scalar(select(Gpo.name).where(Gpo.code == code))
    if kind == "partner":
        gpo_code, _, partner = code.partition(":")
        return session.scalar(
            select(GpoPartner.name).where(
                GpoPartner.gpo_code == gpo_code, GpoPartner.code == partner
            )
        )
    return None


# --- keeping one's own ----------------------------------------------------------------


def put_entity(
    session: Session,
    principal: Principal,
    kind: str,
    code: str,
    body: Mapping[str, Any],
    now: dt.datetime,
    expected_version: int | IfMatch | None,
) -> tuple[DirectoryEntity, bool]:
    """Create the entity, or replace it whole (its referents too); True when created.

    ``body`` is ``schemas.directory.DirectoryEntityInSchema``'s load.
    """
    check_editable(session, principal, kind, code)
    entity = find_entity(session, kind, code)
    created = entity is None
    if entity is None:
        if expected_version is not None:
            raise NotCreated(f"{kind}/{code}")
        entity = DirectoryEntity(kind=kind, code=code, created_at=now, version=1)
        session.add(entity)
        changed = [*FIELDS, "referents"]
    else:
        expected_version = as_version(expected_version, entity.version)
        if expected_version is None:
            raise VersionRequired(entity.version, "directory entity")
        if expected_version != entity.version:
            raise Conflict(entity.version, "directory entity")
        changed = [name for name in FIELDS if getattr(entity, name) != body[name]]
        if _referent_rows(entity.referents) != [_referent_row(r) for r in body["referents"]]:
            changed.append("referents")
        entity.version += 1
    entity.name = body["name"]
    entity.mailbox = body["mailbox"]
    entity.hours = body["hours"]
    entity.notices = list(body["notices"])
    entity.digest = body["digest"]
    entity.updated_at = now
    entity.referents = [
        DirectoryReferent(position=position, **_referent_row(referent))
        for position, referent in enumerate(body["referents"])
    ]
    session.flush()
    _audit_change(session, principal, entity, now, created=created, changed=changed)
    return entity, created


def set_mailbox(
    session: Session, principal: Principal, kind: str, code: str, mailbox: str, now: dt.datetime
) -> DirectoryEntity:
    """Set an entity's functional mailbox (a deployment's command line), creating the entity
    with the name of what it describes and every notice when it is not there yet."""
    check_editable(session, principal, kind, code)
    entity = find_entity(session, kind, code)
    created = entity is None
    if entity is None:
        entity = DirectoryEntity(
            kind=kind,
            code=code,
            name=reference_name(session, kind, code) or code,
            hours="",
            notices=list(DEFAULT_NOTICES),
            digest=False,
            created_at=now,
            version=1,
        )
        session.add(entity)
    else:
        entity.version += 1
    entity.mailbox = mailbox
    entity.updated_at = now
    session.flush()
    _audit_change(session, principal, entity, now, created=created, changed=["mailbox"])
    return entity


def _referent_row(referent: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": referent["name"],
        "function": referent.get("function") or "",
        "phone": referent.get("phone"),
        "email": referent.get("email"),
    }


def _referent_rows(referents: Sequence[DirectoryReferent]) -> list[dict[str, Any]]:
    return [
        {"name": r.name, "function": r.function, "phone": r.phone, "email": r.email}
        for r in referents
    ]


def _audit_change(
    session: Session,
    principal: Principal,
    entity: DirectoryEntity,
    now: dt.datetime,
    *,
    created: bool,
    changed: list[str],
) -> None:
    # The fields' names, not their values: who changed what, not the contacts themselves.
    audit.record(
        session,
        principal,
        "directory.change",
        "directory_entity",
        f"{entity.kind}/{entity.code}",
        now=now,
        detail={"created": created, "version": entity.version, "changed": changed},
    )


# --- documents ------------------------------------------------------------------------


def entity_document(entity: DirectoryEntity, principal: Principal) -> dict[str, Any]:
    """The entity as the API answers it (``schemas.directory.DirectoryEntitySchema``)."""
    return {
        "kind": entity.kind,
        "code": entity.code,
        "name": entity.name,
        "mailbox": entity.mailbox,
        "hours": entity.hours,
        "notices": list(entity.notices),
        "digest": entity.digest,
        "referents": _referent_rows(entity.referents),
        "version": entity.version,
        "updated_at": entity.updated_at,
        "editable": editable(principal, (entity.kind, entity.code)),
    }
