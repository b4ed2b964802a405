"""The pages' French words for the service's codes: one table per vocabulary, pure, no Flask.

Every page (the command-centre console, the operator's follow-up, the sheet form
and its receipt) takes its labels from here, so a value reads the same everywhere.
Labels are written as they stand alone (a table cell, a list item, an option):
capitalised, except the priorities and the sheet statuses, which follow a word
(« P1 immédiate », « Statut : reçue »). ``in_sentence`` lowers a label for the
middle of a sentence.

Two tables exist twice on purpose, and only these:

- statuses agree with their noun: the command centre handles *incidents*
  (``STATUS_LABELS``: « Pris en compte »), the operator follows its *fiches*
  (``SHEET_STATUS_LABELS``: « prise en compte »);
- priorities have a short word (``PRIORITY_LABELS``) and a meaning
  (``PRIORITY_MEANINGS``, on the operator's receipt).

The form's choices add a hint to a few labels (``NATURE_CHOICES``,
``STATE_CHOICES``): the same words, and what they cover.
"""

from __future__ import annotations

import datetime as dt

from intake_service.platform.clock import PARIS

# --- The sheet's vocabularies (schemas/vocabulary.py) -------------------------------------

CHANNEL_LABELS = {
    "distress_radio": "Radio de détresse",
    "silent_alarm": "Alarme discrète",
    "phone": "Téléphone",
    "app": "Application",
    "web_form": "Formulaire web",
    "relay_3117": "Relais 3117",
    "email": "Courriel",
}
REPORTER_ROLE_LABELS = {
    "security_control_room": "PC sûreté",
    "driver": "Conducteur",
    "ticket_inspector": "Contrôleur",
    "station_agent": "Agent de station",
    "security_agent": "Agent de sûreté",
    "municipal_police": "Police municipale",
    "other": "Autre",
}
STATE_LABELS = {
    "in_progress": "En cours",
    "just_happened": "Vient de se produire",
    "over": "Terminé",
}
STATE_HINTS = {"just_happened": "15 min au plus"}
STATE_CHOICES = {
    code: f"{label} ({STATE_HINTS[code]})" if code in STATE_HINTS else label
    for code, label in STATE_LABELS.items()
}
NATURE_LABELS = {
    "physical_assault_staff": "Agression physique d'agent",
    "threat_or_insult_staff": "Outrage ou menace à agent",
    "violence_passenger": "Violence sur voyageur",
    "sexual_or_sexist_violence": "Violence sexuelle ou sexiste",
    "violent_theft": "Vol avec violence",
    "theft": "Vol simple",
    "projectile": "Jet de projectile",
    "vandalism": "Dégradation",
    "drugs": "Stupéfiants",
    "weapon": "Port ou exhibition d'arme",
    "suspicious_package": "Colis suspect",
    "fare_evasion_with_resistance": "Fraude avec rébellion",
    "incivility": "Incivilité",
    "other": "Autre",
}
# What the form's checkboxes add, for the person choosing.
NATURE_HINTS = {
    "threat_or_insult_staff": " (crachat compris)",
    "sexual_or_sexist_violence": ", outrage sexiste",
    "theft": ", pickpocket",
    "vandalism": ", tag",
}
NATURE_CHOICES = {code: label + NATURE_HINTS.get(code, "") for code, label in NATURE_LABELS.items()}
# GTFS route_type.
MODE_LABELS = {
    0: "Tramway",
    1: "Métro",
    2: "Train",
    3: "Bus",
    4: "Bateau",
    5: "Tramway à câble",
    6: "Téléphérique",
    7: "Funiculaire",
    11: "Trolleybus",
    12: "Monorail",
}
PLACE_LABELS = {
    "on_board": "À bord",
    "platform": "Quai",
    "station_hall": "Hall",
    "station_access": "Accès",
    "surroundings": "Abords",
    "depot": "Dépôt",
    "other": "Autre",
}
VEHICLE_POSITION_LABELS = {"front": "Avant", "middle": "Milieu", "rear": "Arrière"}
# In the form's order: the device's own GPS is the usual source there.
COORDINATE_SOURCE_LABELS = {
    "gps": "GPS de l'appareil",
    "avl": "Géolocalisation du véhicule",
    "manual": "Saisie manuelle",
}
SEVERITY_LABELS = {
    "none": "Aucune",
    "minor": "Légère",
    "treated_on_site": "Soins sur place",
    "hospitalised": "Évacuation",
    "life_threatening": "Urgence vitale",
}
SUSPECT_STATUS_LABELS = {
    "on_site": "Sur place",
    "fled": "En fuite",
    "held_by_staff": "Retenu par les agents (art. 73 CPP)",
    "unknown": "Inconnu",
}
# Agreeing with « arme ».
WEAPON_LABELS = {
    "none": "Aucune",
    "blade": "Arme blanche",
    "firearm": "Arme à feu",
    "object": "Objet dangereux",
    "unknown": "Inconnue",
}
VICTIM_KIND_LABELS = {
    "staff": "Membre du personnel",
    "passenger": "Voyageur",
    "third_party": "Tiers",
}
STAFF_FUNCTION_LABELS = {
    "driver": "Conducteur",
    "ticket_inspector": "Contrôleur",
    "station_agent": "Agent de station",
    "security_agent": "Agent de sûreté",
    "other": "Autre",
}
COMPLAINT_LABELS = {"yes": "Oui", "no": "Non", "undecided": "Ne sait pas encore"}
VIDEO_EXISTS_LABELS = {"yes": "Oui", "no": "Non", "unknown": "Ne sait pas"}
VIDEO_SOURCE_LABELS = {
    "on_board": "Caméras embarquées",
    "station": "Caméras de station",
    "body_camera": "Caméra-piéton",
    "forward_facing": "Caméra frontale",
}
# A victim's consents (``ConsentsSchema``), as the form's checkboxes say them.
CONSENT_LABELS = {
    "appointment_contact": "Accepte d'être contactée pour un rendez-vous de plainte",
    "victim_support_referral": "Accepte d'être orientée vers l'aide aux victimes",
    "use_work_address": "Accepte que l'adresse professionnelle soit utilisée",
}

# --- The incident's life -----------------------------------------------------------------

# Short, after the code: « P1 immédiate ».
PRIORITY_LABELS = {"P1": "immédiate", "P2": "urgente", "P3": "suivi", "P4": "enregistrement"}
# What the priority means, for the operator who sent the sheet.
PRIORITY_MEANINGS = {
    "P1": "immédiate : la police doit intervenir maintenant",
    "P2": "urgente : intervention rapide",
    "P3": "suivi à prévoir",
    "P4": "enregistrement, pour mémoire",
}
# Why the sheet got its priority (``priority.RULES``, ``record`` by default).
PRIORITY_REASONS = {
    "suspects_held_by_staff": "auteur retenu par les agents",
    "in_progress_with_danger": "en cours, avec arme, blessé ou violence",
    "in_progress": "en cours",
    "just_happened_suspects_around": "vient de se produire, auteurs sur place ou en fuite",
    "video_erased_soon": "images effacées sous 72 h",
    "staff_victim_may_file_complaint": "agent victime pouvant porter plainte",
    "record": "pour mémoire",
}
# The command centre's words: an incident (« Incident pris en compte. »).
STATUS_LABELS = {
    "received": "Reçu",
    "queued": "Transmis",
    "acknowledged": "Pris en compte",
    "dispatched": "Patrouille engagée",
    "closed": "Clôturé",
    "rejected": "Rejeté",
    "withdrawn": "Retiré par l'exploitant",
}
# The operator's words: a fiche (« Statut : prise en compte »).
SHEET_STATUS_LABELS = {
    "received": "reçue",
    "queued": "transmise",
    "acknowledged": "prise en compte",
    "dispatched": "patrouille engagée",
    "closed": "clôturée",
    "rejected": "rejetée",
    "withdrawn": "retirée",
}
OUTCOME_LABELS = {
    "patrol_on_site": "Patrouille sur place",
    "arrest": "Interpellation",
    "no_police_action": "Sans intervention de police",
    "referred_to_gendarmerie": "Transmis à la gendarmerie",
    "duplicate": "Doublon",
    "false_alarm": "Fausse alerte",
}
REJECT_CAUSE_LABELS = {
    "outside_territory": "Hors de notre territoire (autre service compétent)",
    "not_police_matter": "Ne relève pas de la police",
    "duplicate": "Déjà signalé (doublon)",
    "insufficient_information": "Informations insuffisantes : compléter la fiche",
    "sent_by_mistake": "Envoyée par erreur (essai, mauvais destinataire)",
    "other": "Autre motif",
}
# Who did a step (``access`` roles, and the service itself).
ROLE_LABELS = {
    "operator": "exploitant",
    "command_centre": "centre de commandement",
    "system": "service",
}
POLICE_ZONE_LABELS = {
    "police": "zone police",
    "gendarmerie": "zone gendarmerie",
    "prefecture_de_police": "Préfecture de police",
}
# The service's non-blocking remarks, by code (``intake/rules/warnings.py``, ``intake/places.py``);
# the API gives them in English. Read by the operator and by the command centre alike.
WARNING_LABELS = {
    "state_older_than_15_minutes": "« Vient de se produire » veut dire dans les 15 dernières "
    "minutes ; ces faits sont plus anciens.",
    "video_already_erased": "Les images sont déjà effacées.",
    "video_retention_over_one_month": "La vidéoprotection publique est conservée un mois au plus "
    ": vérifiez la date d'effacement.",
    "weapon_nature_without_weapon": "La nature indique une arme, mais aucune arme n'est indiquée "
    "pour les auteurs.",
    "coordinates_imprecise": "La position n'est précise qu'à plus d'un kilomètre.",
    "no_appointment_consent": "Sans ce consentement, aucun rendez-vous de plainte prioritaire ne "
    "peut être proposé.",
    "stop_not_served_by_route": "Cet arrêt n'est pas desservi par cette ligne dans les données "
    "GTFS de l'exploitant.",
    "point_far_from_stop": "Le point est à plus de 500 m de l'arrêt : vérifiez l'un ou l'autre.",
    "unknown_insee_code": "Aucune commune n'a ce code INSEE : la fiche n'a pas pu être orientée.",
    "routing_assumed": "Routage supposé : la table des zones de police ne couvre pas ce "
    "département, la fiche est allée à la gendarmerie par défaut. Vérifiez le service "
    "compétent et réorientez la fiche si besoin.",
    "insee_code_differs": "Le lieu est dans une autre commune que le code INSEE indiqué : la "
    "fiche est orientée vers celle du lieu.",
    "unrouted": "Le lieu n'a pu être rattaché à aucune commune : la fiche part vers la file "
    "nationale de secours.",
}

# --- The sheet's fields --------------------------------------------------------------------

# Every path of the sheet, in French; ``#`` stands for a victim's index. The top-level
# keys come first, in the sheet's order: they name the sections an amendment changed.
FIELD_LABELS = {
    "operator_reference": "Référence opérateur",
    "channel": "Canal",
    "reported_by": "Déclarant",
    "occurred_at": "Date des faits",
    "state": "État",
    "natures": "Nature des faits",
    "primary_nature": "Nature principale",
    "narrative": "Récit",
    "location": "Lieu",
    "injuries": "Blessés",
    "emergency_services_called": "Secours appelés (15, 18, 112)",
    "suspects": "Auteurs",
    "victims": "Victimes",
    "witnesses_count": "Nombre de témoins",
    "video": "Vidéoprotection",
    "references": "Références",
    "reported_by.role": "Rôle du déclarant",
    "reported_by.name": "Nom du déclarant",
    "reported_by.callback_phone": "Téléphone de rappel",
    "location.mode": "Mode de transport",
    "location.place": "Lieu",
    "location.route_id": "Ligne",
    "location.direction_id": "Sens (GTFS)",
    "location.headsign": "Direction",
    "location.stop_id": "Arrêt",
    "location.previous_stop_id": "Arrêt précédent",
    "location.next_stop_id": "Arrêt suivant",
    "location.vehicle_id": "Véhicule",
    "location.vehicle_position": "Position dans le véhicule",
    "location.coordinates": "Coordonnées",
    "location.coordinates.lat": "Latitude",
    "location.coordinates.lon": "Longitude",
    "location.coordinates.accuracy_m": "Précision (m)",
    "location.coordinates.source": "Source des coordonnées",
    "location.insee_code": "Code commune INSEE",
    "location.address": "Adresse",
    "injuries.count": "Nombre de blessés",
    "injuries.severity": "Gravité des blessures",
    "suspects.count": "Nombre d'auteurs",
    "suspects.status": "Situation des auteurs",
    "suspects.flight_direction": "Direction de fuite",
    "suspects.description": "Description des auteurs",
    "suspects.weapon": "Arme",
    "victims.#": "Victime",
    "victims.#.kind": "Type de victime",
    "victims.#.staff_function": "Fonction",
    "victims.#.on_duty": "En service",
    "victims.#.injury": "Blessure",
    "victims.#.wants_to_file_complaint": "Souhaite porter plainte",
    "victims.#.contact": "Contact",
    "victims.#.contact.name": "Nom du contact",
    "victims.#.contact.phone": "Téléphone du contact",
    "victims.#.contact.email": "Courriel du contact",
    "victims.#.consents": "Consentements",
    **{f"victims.#.consents.{name}": label for name, label in CONSENT_LABELS.items()},
    "video.exists": "Images existantes",
    "video.sources": "Sources des images",
    "video.erased_after": "Date d'effacement des images",
    "references.alert_3117": "Alerte 3117",
    "references.police_case_number": "Numéro de procédure police",
    "references.previous_operator_reference": "Référence d'une fiche précédente",
}


def section_label(path: str) -> str:
    """The section of the sheet a dotted path belongs to, in French (the path if unknown)."""
    section = path.split(".", 1)[0]
    return FIELD_LABELS.get(section, path)


def in_sentence(label: str) -> str:
    """A label for the middle of a sentence: « Interpellation » → « interpellation ».

    A leading acronym stays as it is (« GPS de l'appareil », « PC sûreté »).
    """
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


# --- GPO problems (problem_lifecycle.py, schemas/gpo.py) ------------------------

PROBLEM_STATE_LABELS = {
    "reported": "Signalé",
    "qualified": "Qualifié",
    "analysis": "Analyse",
    "action_plan": "Plan d'action",
    "in_progress": "Mise en œuvre",
    "assessment": "Évaluation",
    "resolved": "Résolu",
    "improved": "Amélioré",
    "not_resolved": "Non résolu",
    "closed": "Clos",
    "watch": "Sous surveillance",
    "abandoned": "Abandonné",
    "out_of_scope": "Hors du champ du GPO",
}
ACTION_STATUS_LABELS = {
    "planned": "Prévue",
    "in_progress": "En cours",
    "done": "Réalisée",
    "cancelled": "Annulée",
}
# An incident's link to a problem, as the referent's pages say it (lower case: « lien proposé »).
LINK_STATE_LABELS = {
    "proposed": "proposé",
    "confirmed": "rattaché",
    "rejected": "rejeté",
    "unlinked": "détaché",
}
JOURNAL_KIND_LABELS = {
    "meeting": "Réunion",
    "decision": "Décision",
    "note": "Note",
    "state_change": "Changement d'état",
    "action": "Action",
    "link": "Incident lié",
    "change": "Modification",
}
WEEKDAY_LABELS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")

# --- Priority complaint appointments (web/stations.py, web/appointments.py) ------

APPOINTMENT_STATUS_LABELS = {
    "booked": "Réservé",
    "cancelled": "Annulé",
    "rescheduled": "Déplacé",
    "honoured": "Honoré",
    "missed": "Non honoré",
}
APPOINTMENT_REQUEST_STATE_LABELS = {
    "offered": "Proposé (la victime n'a pas encore décidé)",
    "waiting": "En attente d'un créneau",
    "booked": "Réservé",
    "declined": "Refusé",
    "cancelled": "Annulé",
}
EMAIL_KIND_LABELS = {
    "booked": "Confirmation de rendez-vous",
    "rescheduled": "Déplacement de rendez-vous",
    "cancelled": "Annulation de rendez-vous",
    "waiting_alert": "Alerte : victime en attente",
}
EMAIL_STATE_LABELS = {"pending": "À envoyer", "sent": "Envoyé", "failed": "Échec"}


# --- times, as the pages say them (Paris time) ---------------------------------------------


def in_paris(moment: dt.datetime) -> dt.datetime:
    """A UTC instant (naive ones are UTC) in Paris local time."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(PARIS)


def hour(moment: dt.datetime) -> str:
    """``18 h 32``, in Paris time."""
    local = in_paris(moment)
    return f"{local.hour} h {local.minute:02d}"


def date_time(moment: dt.datetime | None) -> str:
    """``26/11/2026 à 12 h 05``, in Paris time (empty for no time)."""
    if moment is None:
        return ""
    return f"{in_paris(moment):%d/%m/%Y} à {hour(moment)}"


MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def long_date_time(moment: dt.datetime) -> str:
    """« mardi 1 décembre 2026 à 14 h 30 », in Paris time (emails, printed summaries)."""
    local = in_paris(moment)
    weekday = WEEKDAY_LABELS[local.weekday()].lower()
    return f"{weekday} {local.day} {MONTHS[local.month - 1]} {local.year} à {hour(moment)}"
