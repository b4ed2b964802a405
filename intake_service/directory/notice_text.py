"""The words of a notice: the facts a functional mailbox may carry about an incident.

A mailbox is read by several people and keeps its emails outside the service: a notice
says what happened, where (the commune and the service), when and how urgent, and links
to the page where a signed-in person reads the rest. Never a name, a phone, a
description, a narrative or a message's text.
"""

from __future__ import annotations

from intake_service.models import Incident
from intake_service.platform.labels import NATURE_LABELS, PRIORITY_LABELS, date_time
from intake_service.territory.rules.routing import UNROUTED_SERVICE

# Where each side reads an incident (the pages' paths, web/console.py and web/follow_up.py).
PAGE_OF_SIDE = {
    "command_centre": "/console/incidents/{id}",
    "operator": "/operateur/incidents/{id}",
}


def incident_link(public_url: str, side: str, incident_id: str) -> str:
    return public_url.rstrip("/") + PAGE_OF_SIDE[side].format(id=incident_id)


def incident_facts(incident: Incident) -> str:
    """``P1 (immédiate) · Agression physique d'un agent · reçue le 14/03/2026 à 18 h 30 ·
    tisseo, réf. TIS-1 · service compétent : DDSP 31``."""
    nature = NATURE_LABELS.get(incident.primary_nature, incident.primary_nature)
    priority = PRIORITY_LABELS.get(incident.priority, incident.priority)
    service = incident.service_name or "file nationale de secours"
    return (
        f"{incident.priority} ({priority}) · {nature} · reçue le {date_time(incident.received_at)}"
        f" · {incident.operator.name}, réf. {incident.operator_reference}"
        f" · service compétent : {service}"
    )


# The end of every notice; the daily digest says it once (directory/digest.py).
FOOTER = (
    "Ce message ne contient aucune donnée personnelle : les détails sont sur la page.\n"
    "Vous recevez ce message parce que votre entité a choisi cet avis dans l'annuaire "
    "de la ligne directe.\n"
)


def notice_body(lead: str, incident: Incident, link: str) -> str:
    """The plain-text email: one sentence of what is asked, the facts, the link."""
    return (
        f"{lead}\n\n{incident_facts(incident)}\n\nÀ consulter (connexion requise) : {link}\n\n"
        + FOOTER
    )


def entity_of_side(side: str, incident: Incident) -> tuple[str, str]:
    """The directory entity (kind, code) speaking for ``side`` on ``incident``."""
    if side == "operator":
        return "operator", incident.operator.code
    return "police_service", incident.service_code or UNROUTED_SERVICE
