"""The pre-filled complaint summary of an appointment (the simplified procedure).

The officer taking the complaint reads the sheet's facts so the victim does not
tell them all again: facts, place, suspects, injuries, the victim, video and its
erase date (flagged when close: the police must requisition the footage before),
witnesses and references. For sexual or sexist violence it says the hearing is
in person. Only the officers of the appointment's station may read it, and each
read is audited (it holds personal data). ``document`` turns it into a PDF.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal, station_of
from intake_service.appointments import changes
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    GtfsRoute,
    GtfsStop,
    Incident,
    PoliceStation,
)
from intake_service.platform import labels, pdf
from intake_service.platform.clock import PARIS
from intake_service.platform.errors import NotFound

# The footage is flagged when it will be overwritten within this long.
ERASE_SOON = dt.timedelta(days=7)
IN_PERSON = (
    "Audition en présentiel, pas de plainte par visioconférence (violences sexuelles ou sexistes)."
)

NotFound = NotFound
# The commune's name from its INSEE code (the commune index), when known.
CommuneName = Callable[[str], str | None]


@dataclass(frozen=True)
class Note:
    text: str
    strong: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    facts: list[tuple[str, str]]
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    appointment_id: int
    incident_id: str
    title: str
    subtitle: str
    in_person: bool
    video_erase_soon: bool
    sections: list[Section]


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _parse(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def _label(table: dict[str, str], code: Any) -> str:
    if code is None or code == "":
        return "Non renseigné"
    return table.get(str(code), str(code))


def _text(value: Any) -> str:
    if value is None or value == "":
        return "Non renseigné"
    return str(value)


def read_summary(
    session: Session,
    principal: Principal,
    appointment_id: int,
    now: dt.datetime,
    *,
    commune_name: CommuneName | None = None,
) -> Summary:
    """The summary, for the officers of the appointment's station: audited."""
    appointment = changes.get_appointment(session, principal, appointment_id)
    if station_of(principal) != appointment.station_code:
        raise NotFound(str(appointment_id))
    summary = build(session, appointment, now, commune_name=commune_name)
    audit.record(
        session,
        principal,
        "appointment.summary.read",
        "appointment",
        str(appointment.id),
        now=now,
        detail={"incident_id": summary.incident_id},
    )
    return summary


def build(
    session: Session,
    appointment: Appointment,
    now: dt.datetime,
    *,
    commune_name: CommuneName | None = None,
) -> Summary:
    request = session.get(AppointmentRequest, appointment.request_id)
    slot = session.get(ComplaintSlot, appointment.slot_id)
    station = session.get(PoliceStation, appointment.station_code)
    if request is None or slot is None or station is None:
        raise NotFound(str(appointment.id))
    incident = session.get(Incident, request.incident_id)
    if incident is None:
        raise NotFound(str(appointment.id))
    sheet: dict[str, Any] = incident.sheet or {}
    natures = [str(code) for code in sheet.get("natures") or []]
    in_person = "sexual_or_sexist_violence" in natures
    sections = [
        _appointment_section(appointment, slot, station, in_person),
        _facts_section(incident, sheet, natures),
        _place_section(session, incident, sheet, commune_name),
        _suspects_section(sheet),
        _injuries_section(sheet),
        _victim_section(sheet, request.victim_index),
    ]
    video, erase_soon = _video_section(sheet, now)
    sections.append(video)
    sections.append(_references_section(incident, sheet))
    return Summary(
        appointment_id=appointment.id,
        incident_id=incident.id,
        title="Synthèse pré-remplie pour le dépôt de plainte",
        subtitle=f"{station.name} — {labels.long_date_time(_aware(slot.starts_at))}",
        in_person=in_person,
        video_erase_soon=erase_soon,
        sections=sections,
    )


def _appointment_section(
    appointment: Appointment, slot: ComplaintSlot, station: PoliceStation, in_person: bool
) -> Section:
    notes = [Note(IN_PERSON, strong=True)] if in_person else []
    return Section(
        "Rendez-vous",
        [
            ("Date", labels.long_date_time(_aware(slot.starts_at))),
            ("Commissariat", station.name),
            ("Adresse", station.address),
            ("État", _label(labels.APPOINTMENT_STATUS_LABELS, appointment.status)),
        ],
        notes,
    )


def _facts_section(incident: Incident, sheet: dict[str, Any], natures: list[str]) -> Section:
    occurred = _aware(incident.occurred_at).astimezone(PARIS)
    return Section(
        "Les faits",
        [
            ("Date des faits", occurred.strftime("%d/%m/%Y à %H:%M") + " (heure de Paris)"),
            ("État au signalement", _label(labels.STATE_LABELS, sheet.get("state"))),
            ("Nature des faits", ", ".join(_label(labels.NATURE_LABELS, n) for n in natures)),
            ("Nature principale", _label(labels.NATURE_LABELS, sheet.get("primary_nature"))),
            ("Récit", _text(sheet.get("narrative"))),
        ],
    )


def _stop_name(session: Session, operator_id: int, stop_id: Any) -> str | None:
    if not isinstance(stop_id, str):
        return None
    stop = session.get(GtfsStop, (operator_id, stop_id))
    return stop.name if stop is not None else stop_id


def _place_section(
    session: Session,
    incident: Incident,
    sheet: dict[str, Any],
    commune_name: CommuneName | None,
) -> Section:
    location: dict[str, Any] = sheet.get("location") or {}
    facts = [
        ("Transport", labels.MODE_LABELS.get(location.get("mode", -1), "Non renseigné")),
        ("Lieu", _label(labels.PLACE_LABELS, location.get("place"))),
    ]
    route_id = location.get("route_id")
    if isinstance(route_id, str):
        route = session.get(GtfsRoute, (incident.operator_id, route_id))
        line = (
            f"{route.short_name} — {route.long_name}".strip(" —") if route is not None else route_id
        )
        facts.append(("Ligne", line))
    for key, label in (
        ("stop_id", "Arrêt"),
        ("previous_stop_id", "Arrêt précédent"),
        ("next_stop_id", "Arrêt suivant"),
    ):
        name = _stop_name(session, incident.operator_id, location.get(key))
        if name is not None:
            facts.append((label, name))
    if location.get("vehicle_id"):
        facts.append(("Véhicule", str(location["vehicle_id"])))
    if location.get("address"):
        facts.append(("Adresse", str(location["address"])))
    name = commune_name(incident.insee_code) if commune_name and incident.insee_code else None
    commune = f"{name} ({incident.insee_code})" if name else _text(incident.insee_code)
    facts.append(("Commune", commune))
    coordinates = location.get("coordinates") or {}
    if coordinates.get("lat") is not None and coordinates.get("lon") is not None:
        facts.append(("Coordonnées", f"{coordinates['lat']}, {coordinates['lon']}"))
    return Section("Le lieu", facts)


def _suspects_section(sheet: dict[str, Any]) -> Section:
    suspects: dict[str, Any] = sheet.get("suspects") or {}
    facts = [
        ("Nombre", _text(suspects.get("count"))),
        ("Situation", _label(labels.SUSPECT_STATUS_LABELS, suspects.get("status"))),
        ("Arme", _label(labels.WEAPON_LABELS, suspects.get("weapon"))),
    ]
    if suspects.get("flight_direction"):
        facts.append(("Direction de fuite", str(suspects["flight_direction"])))
    facts.append(("Description", _text(suspects.get("description"))))
    return Section("Les auteurs", facts)


def _injuries_section(sheet: dict[str, Any]) -> Section:
    injuries: dict[str, Any] = sheet.get("injuries") or {}
    called = sheet.get("emergency_services_called")
    return Section(
        "Les blessés",
        [
            ("Nombre", _text(injuries.get("count"))),
            ("Gravité", _label(labels.SEVERITY_LABELS, injuries.get("severity"))),
            ("Secours appelés", "Oui" if called else "Non" if called is False else "Non renseigné"),
        ],
    )


def _victim_section(sheet: dict[str, Any], index: int) -> Section:
    victims = sheet.get("victims") or []
    victim: dict[str, Any] = victims[index] if 0 <= index < len(victims) else {}
    contact: dict[str, Any] = victim.get("contact") or {}
    facts = [
        ("Qualité", _label(labels.VICTIM_KIND_LABELS, victim.get("kind"))),
        ("Fonction", _label(labels.STAFF_FUNCTION_LABELS, victim.get("staff_function"))),
        ("En service", "Oui" if victim.get("on_duty") else "Non"),
        ("Blessure", _label(labels.SEVERITY_LABELS, victim.get("injury"))),
        ("Nom", _text(contact.get("name"))),
        ("Téléphone", _text(contact.get("phone"))),
        ("Courriel", _text(contact.get("email"))),
    ]
    consents = victim.get("consents") or {}
    if consents.get("victim_support_referral"):
        facts.append(("Aide aux victimes", "Accepte d'être orientée vers France Victimes"))
    if len(victims) > 1:
        facts.append(("Autres victimes sur la fiche", str(len(victims) - 1)))
    return Section("La victime", facts)


def _video_section(sheet: dict[str, Any], now: dt.datetime) -> tuple[Section, bool]:
    video: dict[str, Any] = sheet.get("video") or {}
    facts = [("Images", _label(labels.VIDEO_EXISTS_LABELS, video.get("exists")))]
    if video.get("sources"):
        facts.append(
            (
                "Sources",
                ", ".join(_label(labels.VIDEO_SOURCE_LABELS, s) for s in video["sources"]),
            )
        )
    notes: list[Note] = []
    erase_soon = False
    erased_after = _parse(video.get("erased_after"))
    if erased_after is not None:
        local = erased_after.astimezone(PARIS)
        facts.append(("Effacement des images", local.strftime("%d/%m/%Y à %H:%M")))
        if erased_after <= now:
            erase_soon = True
            notes.append(
                Note("Les images ont probablement déjà été effacées : vérifier au plus vite.", True)
            )
        elif erased_after - now <= ERASE_SOON:
            erase_soon = True
            notes.append(
                Note(
                    "Effacement proche : réquisitionner les images avant le "
                    f"{local.strftime('%d/%m/%Y à %H:%M')}.",
                    strong=True,
                )
            )
    facts.append(("Témoins", _text(sheet.get("witnesses_count"))))
    return Section("Vidéoprotection et témoins", facts, notes), erase_soon


def _references_section(incident: Incident, sheet: dict[str, Any]) -> Section:
    references: dict[str, Any] = sheet.get("references") or {}
    facts = [
        ("Référence de l'opérateur", incident.operator_reference),
        ("Opérateur", incident.operator.name),
        ("Identifiant de la fiche", incident.id),
        ("Priorité", f"{incident.priority} {labels.PRIORITY_LABELS.get(incident.priority, '')}"),
    ]
    for key, label in (
        ("alert_3117", "Alerte 3117"),
        ("police_case_number", "Numéro de procédure"),
        ("previous_operator_reference", "Fiche précédente"),
    ):
        if references.get(key):
            facts.append((label, str(references[key])))
    return Section("Références", facts)


def document(summary: Summary) -> pdf.Document:
    """The summary as a printable PDF document."""
    blocks: list[pdf.Block] = []
    if summary.in_person:
        blocks.append(pdf.Paragraph(IN_PERSON, strong=True))
    for section in summary.sections:
        blocks.append(pdf.Heading(section.title))
        blocks.append(pdf.Facts(section.facts))
        blocks.extend(pdf.Paragraph(note.text, strong=note.strong) for note in section.notes)
    return pdf.Document(
        title=summary.title,
        subtitle=summary.subtitle,
        blocks=blocks,
        footer="Diffusion restreinte : données personnelles, usage exclusif de la procédure",
    )
