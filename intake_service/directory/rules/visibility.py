"""Who sees and who keeps which entity of the directory (docs/decisions.md, Directory).

An entity is ``(kind, code)``: ``("operator", "tisseo")``, ``("police_service", "ddsp-31")``,
``("police_station", "csp-toulouse")``, ``("gpo", "gpo-toulouse")``,
``("partner", "gpo-toulouse:pm-toulouse")``. Each caller sees its own entity and those
it works with, as the data says (``Relations``, read by the caller from the database):

- an operator: the services its incidents are routed to, their stations, the GPOs that
  list it;
- a command centre: the operators whose incidents are routed to it, its stations, the
  GPOs that list its service;
- a station: its service and the operators of its service's incidents;
- a GPO referent: its GPO, its partners, the services and operators its GPO lists;
- a partner: its own entity and its GPO's;
- the admin: every entity.

Each keeps its own entity only (the admin keeps all). Anything else is not seen: a
page or endpoint answers 404, as for an entity that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Entity = tuple[str, str]  # (kind, code)


@dataclass(frozen=True)
class Relations:
    """The facts visibility depends on.

    ``routes``: the (operator code, service code) pairs of the incidents (an unrouted
    incident's service is the fallback desk's code); ``station_services``: station code →
    its service code; ``gpo_services``, ``gpo_operators``, ``gpo_partners``: GPO code → the
    service codes, operator codes and partner codes it lists.
    """

    routes: frozenset[tuple[str, str]] = frozenset()
    station_services: Mapping[str, str | None] = field(default_factory=dict)
    gpo_services: Mapping[str, frozenset[str]] = field(default_factory=dict)
    gpo_operators: Mapping[str, frozenset[str]] = field(default_factory=dict)
    gpo_partners: Mapping[str, frozenset[str]] = field(default_factory=dict)


def own_entity(role: str, scope: str) -> Entity | None:
    """The entity a caller's accounts speak for, or None (admin; a partner scope that
    names no partner organisation)."""
    if role == "operator":
        return ("operator", scope)
    if role == "command_centre":
        return ("police_service", scope)
    if role == "station_officer":
        return ("police_station", scope)
    if role == "gpo_referent":
        return ("gpo", scope)
    if role == "gpo_partner" and ":" in scope:
        return ("partner", scope)
    return None


def may_edit(role: str, scope: str, entity: Entity) -> bool:
    """The admin keeps every entity; every other caller its own only."""
    if role == "admin":
        return True
    return own_entity(role, scope) == entity


def _stations_of(services: set[str], relations: Relations) -> set[Entity]:
    return {
        ("police_station", station)
        for station, service in relations.station_services.items()
        if service is not None and service in services
    }


def _gpos_listing(kind: str, code: str, relations: Relations) -> set[Entity]:
    listed = relations.gpo_operators if kind == "operator" else relations.gpo_services
    return {("gpo", gpo) for gpo, codes in listed.items() if code in codes}


def visible_entities(role: str, scope: str, relations: Relations) -> frozenset[Entity] | None:
    """The entities ``role``/``scope`` may see; None means every entity (the admin)."""
    if role == "admin":
        return None
    seen: set[Entity] = set()
    own = own_entity(role, scope)
    if own is not None:
        seen.add(own)
    if role == "operator":
        services = {service for operator, service in relations.routes if operator == scope}
        seen |= {("police_service", service) for service in services}
        seen |= _stations_of(services, relations)
        seen |= _gpos_listing("operator", scope, relations)
    elif role == "command_centre":
        seen |= {
            ("operator", operator) for operator, service in relations.routes if service == scope
        }
        seen |= _stations_of({scope}, relations)
        seen |= _gpos_listing("police_service", scope, relations)
    elif role == "station_officer":
        service = relations.station_services.get(scope)
        if service is not None:
            seen.add(("police_service", service))
            seen |= {
                ("operator", operator)
                for operator, routed_to in relations.routes
                if routed_to == service
            }
    elif role == "gpo_referent":
        seen.add(("gpo", scope))
        seen |= {("partner", f"{scope}:{code}") for code in relations.gpo_partners.get(scope, ())}
        seen |= {("police_service", code) for code in relations.gpo_services.get(scope, ())}
        seen |= {("operator", code) for code in relations.gpo_operators.get(scope, ())}
    elif role == "gpo_partner":
        seen.add(("gpo", scope.split(":", 1)[0]))
    return frozenset(seen)


def may_see(role: str, scope: str, entity: Entity, relations: Relations) -> bool:
    visible = visible_entities(role, scope, relations)
    return visible is None or entity in visible
