"""What a functional mailbox may be sent: the kinds of notices, and who gets each.

An entity opts in or out of each kind (``DirectoryEntity.notices``); a new entity gets
``DEFAULT_NOTICES``. A notice carries a link and the facts a mailbox may carry (priority,
nature, commune, times), never the sheet's personal data: a functional mailbox is read
by several people and its messages are kept outside the service.
"""

from __future__ import annotations

ENTITY_KINDS = ("operator", "police_service", "police_station", "gpo", "partner")

# kind → French label shown where the entity chooses its notices.
NOTICE_KINDS: dict[str, str] = {
    "urgent_incident": "Nouvel incident P1 ou P2 pour le service",
    "rejection": "Fiche rejetée par le centre de commandement",
    "escalation": "Incident non pris en compte dans le délai (escalade)",
    "rfi": "Nouvelle demande d'information",
    "rfi_overdue": "Demande d'information sans réponse après son échéance",
    "cctv_requested": "Réquisition d'images de vidéoprotection",
    "cctv_deadline": "Échéance d'effacement des images approchant (24 h et 2 h avant)",
    "appointment": "Rendez-vous de plainte réservé ou en attente de créneau",
}

DEFAULT_NOTICES: tuple[str, ...] = tuple(NOTICE_KINDS)


def unknown_kinds(kinds: list[str]) -> list[str]:
    """The names in ``kinds`` that are not notice kinds (to refuse them, each named)."""
    return [kind for kind in kinds if kind not in NOTICE_KINDS]
