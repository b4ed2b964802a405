"""The sheet form's French words, and the form ↔ sheet conversion: pure, no Flask.

Three things live here, all table-driven so they are tested as tables:

- the French labels of the sheet's vocabularies and fields (``incident-sheet.md``);
- the French translation of the validation messages of ``schemas/sheet.py`` and
  marshmallow, keyed by message text (a generic fallback for anything new);
- ``form_to_sheet``: the posted form fields, named by their dotted path in the
  sheet (``location.coordinates.lat``, ``victims.0.kind``), as the nested sheet
  the API would receive. It only shapes and types values: an unreadable number
  is passed on as typed, so the one validation (``SheetSchema``) reports it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

# --- Vocabularies -----------------------------------------------------------------------

CHANNELS = {
    "distress_radio": "Radio de détresse",
    "silent_alarm": "Alarme discrète",
    "phone": "Téléphone",
    "app": "Application",
    "web_form": "Formulaire web",
    "relay_3117": "Relais 3117",
    "email": "Courriel",
}
REPORTER_ROLES = {
    "security_control_room": "PC sûreté",
    "driver": "Conducteur",
    "ticket_inspector": "Contrôleur",
    "station_agent": "Agent de station",
    "security_agent": "Agent de sûreté",
    "municipal_police": "Police municipale",
    "other": "Autre",
}
STATES = {
    "in_progress": "En cours",
    "just_happened": "Vient de se produire (15 min au plus)",
    "over": "Terminé",
}
NATURES = {
    "physical_assault_staff": "Agression physique d'agent",
    "threat_or_insult_staff": "Outrage ou menace à agent (crachat compris)",
    "violence_passenger": "Violence sur voyageur",
    "sexual_or_sexist_violence": "Violence sexuelle ou sexiste, outrage sexiste",
    "violent_theft": "Vol avec violence",
    "theft": "Vol simple, pickpocket",
    "projectile": "Jet de projectile",
    "vandalism": "Dégradation, tag",
    "drugs": "Stupéfiants",
    "weapon": "Port ou exhibition d'arme",
    "suspicious_package": "Colis suspect",
    "fare_evasion_with_resistance": "Fraude avec rébellion",
    "incivility": "Incivilité",
    "other": "Autre",
}
MODES = {
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
PLACES = {
    "on_board": "À bord",
    "platform": "Quai",
    "station_hall": "Hall",
    "station_access": "Accès",
    "surroundings": "Abords",
    "depot": "Dépôt",
    "other": "Autre",
}
VEHICLE_POSITIONS = {"front": "Avant", "middle": "Milieu", "rear": "Arrière"}
COORDINATE_SOURCES = {
    "gps": "GPS de l'appareil",
    "avl": "Géolocalisation du véhicule",
    "manual": "Saisie manuelle",
}
SEVERITIES = {
    "none": "Aucune",
    "minor": "Légère",
    "treated_on_site": "Soins sur place",
    "hospitalised": "Évacuation",
    "life_threatening": "Urgence vitale",
}
SUSPECT_STATUSES = {
    "on_site": "Sur place",
    "fled": "En fuite",
    "held_by_staff": "Retenu par les agents (art. 73 CPP)",
    "unknown": "Inconnu",
}
WEAPONS = {
    "none": "Aucune",
    "blade": "Arme blanche",
    "firearm": "Arme à feu",
    "object": "Objet dangereux",
    "unknown": "Inconnu",
}
VICTIM_KINDS = {"staff": "Membre du personnel", "passenger": "Voyageur", "third_party": "Tiers"}
STAFF_FUNCTIONS = {
    "driver": "Conducteur",
    "ticket_inspector": "Contrôleur",
    "station_agent": "Agent de station",
    "security_agent": "Agent de sûreté",
    "other": "Autre",
}
COMPLAINT_WISHES = {"yes": "Oui", "no": "Non", "undecided": "Ne sait pas encore"}
VIDEO_EXISTS = {"yes": "Oui", "no": "Non", "unknown": "Ne sait pas"}
VIDEO_SOURCES = {
    "on_board": "Caméras embarquées",
    "station": "Caméras de station",
    "body_camera": "Caméra-piéton",
    "forward_facing": "Caméra frontale",
}
CONSENTS = {
    "appointment_contact": "Accepte d'être contactée pour un rendez-vous de plainte",
    "victim_support_referral": "Accepte d'être orientée vers l'aide aux victimes",
    "use_work_address": "Accepte que l'adresse professionnelle soit utilisée",
}
PRIORITIES = {
    "P1": "P1 — immédiat : la police doit intervenir maintenant",
    "P2": "P2 — urgent",
    "P3": "P3 — suivi à prévoir",
    "P4": "P4 — enregistrement",
}
STATUSES = {
    "received": "reçue",
    "queued": "transmise au centre de commandement",
    "acknowledged": "prise en compte",
    "dispatched": "patrouille envoyée",
    "closed": "clôturée",
    "rejected": "renvoyée",
    "withdrawn": "retirée",
}
POLICE_ZONES = {
    "police": "zone police",
    "gendarmerie": "zone gendarmerie",
    "prefecture_de_police": "Préfecture de police",
}
# The service's non-blocking remarks, by code (``sheet_warnings.py``, ``places.py``).
WARNINGS = {
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
    "stop_not_served_by_route": "Cet arrêt n'est pas desservi par cette ligne dans vos données "
    "GTFS.",
    "point_far_from_stop": "Le point est à plus de 500 m de l'arrêt : vérifiez l'un ou l'autre.",
    "unknown_insee_code": "Aucune commune n'a ce code INSEE : la fiche n'a pas pu être orientée.",
    "insee_code_differs": "Le lieu est dans une autre commune que le code INSEE indiqué : la "
    "fiche est orientée vers celle du lieu.",
    "unrouted": "Le lieu n'a pu être rattaché à aucune commune : la fiche part vers la file "
    "nationale de secours.",
}

# --- Fields -----------------------------------------------------------------------------

# Every path the form shows, with its French label; ``#`` stands for a victim's index.
# Errors at a path not listed here are shown at the nearest listed parent.
FIELD_LABELS = {
    "operator_reference": "Référence opérateur",
    "channel": "Canal",
    "reported_by": "Déclarant",
    "reported_by.role": "Rôle du déclarant",
    "reported_by.name": "Nom du déclarant",
    "reported_by.callback_phone": "Téléphone de rappel",
    "occurred_at": "Date des faits",
    "state": "État",
    "natures": "Nature des faits",
    "primary_nature": "Nature principale",
    "narrative": "Récit",
    "location": "Lieu",
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
    "injuries": "Blessés",
    "injuries.count": "Nombre de blessés",
    "injuries.severity": "Gravité des blessures",
    "emergency_services_called": "Secours appelés (15, 18, 112)",
    "suspects": "Auteurs",
    "suspects.count": "Nombre d'auteurs",
    "suspects.status": "Situation des auteurs",
    "suspects.flight_direction": "Direction de fuite",
    "suspects.description": "Description des auteurs",
    "suspects.weapon": "Arme",
    "victims": "Victimes",
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
    "witnesses_count": "Nombre de témoins",
    "video": "Vidéoprotection",
    "video.exists": "Images existantes",
    "video.sources": "Sources des images",
    "video.erased_after": "Date d'effacement des images",
    "references": "Références",
    "references.alert_3117": "Alerte 3117",
    "references.police_case_number": "Numéro de procédure police",
    "references.previous_operator_reference": "Référence d'une fiche précédente",
}
for _consent in CONSENTS:
    FIELD_LABELS[f"victims.#.consents.{_consent}"] = CONSENTS[_consent]

# How the form's text is turned into the sheet's JSON types.
INTEGER_FIELDS = frozenset(
    {
        "location.mode",
        "location.direction_id",
        "injuries.count",
        "suspects.count",
        "witnesses_count",
    }
)
FLOAT_FIELDS = frozenset(
    {"location.coordinates.lat", "location.coordinates.lon", "location.coordinates.accuracy_m"}
)
# Oui/non radio buttons: nothing chosen is absent (the schema then says "required").
YES_NO_FIELDS = frozenset({"emergency_services_called", "victims.#.on_duty"})
# Checkboxes of one boolean each: unticked is false.
CHECKBOX_FIELDS = frozenset(f"victims.#.consents.{name}" for name in CONSENTS)
# datetime-local inputs, read as Europe/Paris wall-clock time.
LOCAL_DATETIME_FIELDS = frozenset({"occurred_at", "video.erased_after"})
# Several checkboxes under one name.
LIST_FIELDS = frozenset({"natures", "video.sources"})
# Objects the sheet requires: kept even when empty, so each missing part is named.
REQUIRED_OBJECTS = frozenset({"reported_by", "location", "injuries", "suspects", "video"})
YES, NO = "oui", "non"
MAX_VICTIMS = 20

_INDEX = re.compile(r"\.\d+(?=\.|$)")


def generic_path(path: str) -> str:
    """``victims.3.kind`` → ``victims.#.kind``: the key of the field tables."""
    return _INDEX.sub(".#", path)


def field_anchor(path: str) -> str:
    """The HTML id of the input (or group) of the field at ``path``."""
    return "champ-" + (path.replace(".", "-").replace("_", "-") or "fiche")


def shown_path(path: str) -> str:
    """The nearest path the form shows (itself or a parent), or "" for the whole sheet."""
    parts = path.split(".") if path else []
    while parts:
        candidate = ".".join(parts)
        if generic_path(candidate) in FIELD_LABELS:
            return candidate
        parts.pop()
    return ""


def field_label(path: str) -> str:
    """The French label of ``path``, numbered for a victim (« Victime 2 — Fonction »)."""
    label = FIELD_LABELS.get(generic_path(path), "Fiche")
    match = re.match(r"victims\.(\d+)(\.|$)", path)
    if match and generic_path(path) != "victims.#":
        return f"Victime {int(match.group(1)) + 1} — {label}"
    if match:
        return f"Victime {int(match.group(1)) + 1}"
    return label


# --- Messages ---------------------------------------------------------------------------

GENERIC_MESSAGE = "Valeur invalide."
DUPLICATE_REFERENCE = "Already used by an accepted sheet."

MESSAGES = {
    # marshmallow
    "Missing data for required field.": "Champ obligatoire.",
    "Field may not be null.": "Champ obligatoire.",
    "Invalid value.": GENERIC_MESSAGE,
    "Not a valid string.": "Texte invalide.",
    "Not a valid utf-8 string.": "Texte invalide.",
    "Not a valid integer.": "Saisissez un nombre entier.",
    "Not a valid number.": "Saisissez un nombre.",
    "Number too large.": "Nombre trop grand.",
    "Not a valid list.": GENERIC_MESSAGE,
    "Invalid type.": GENERIC_MESSAGE,
    "Invalid input type.": GENERIC_MESSAGE,
    "Unknown field.": "Champ inconnu.",
    "Not a valid email address.": "Adresse électronique invalide.",
    "Not a valid datetime.": "Date et heure invalides.",
    "Not a valid aware datetime.": "Date et heure invalides (fuseau horaire manquant).",
    "Not a valid boolean.": "Choisissez oui ou non.",
    # schemas/fields.py
    "Not a phone number.": "Ce n'est pas un numéro de téléphone.",
    "Not a valid phone number (E.164 or French national format).": (
        "Numéro de téléphone invalide : format national (06 12 34 56 78) ou international "
        "(+33 6 12 34 56 78)."
    ),
    "Not a boolean (true or false).": "Choisissez oui ou non.",
    "Not a number.": "Saisissez un nombre (par exemple 43.6045).",
    # schemas/sheet.py: fields
    "Values must be unique.": "Chaque valeur ne peut être choisie qu'une fois.",
    "The point is not in France (WGS84 lat/lon).": (
        "Ce point n'est pas en France (latitude et longitude en degrés décimaux, WGS84)."
    ),
    "An INSEE commune code has 5 characters (2A/2B for Corsica).": (
        "Un code commune INSEE a 5 caractères (2A ou 2B pour la Corse), par exemple 31555."
    ),
    # schemas/sheet.py: rules across fields
    "Must not be more than 5 minutes in the future.": (
        "La date des faits ne peut pas être dans le futur (tolérance : 5 minutes)."
    ),
    "Must not be older than 6 years (prosecution limit).": (
        "Les faits ne peuvent pas dater de plus de 6 ans (délai de prescription)."
    ),
    "An incident in progress must have occurred within the last 60 minutes; "
    "use 'just_happened' or 'over'.": (
        "Un incident en cours date de moins de 60 minutes : choisissez « vient de se "
        "produire » ou « terminé », ou corrigez la date des faits."
    ),
    "Must be one of the sheet's natures.": (
        "La nature principale doit faire partie des natures cochées."
    ),
    "Required when the incident is in progress.": "Obligatoire quand l'incident est en cours.",
    "Only for an incident on board between stops.": (
        "Seulement pour un incident à bord, entre deux arrêts."
    ),
    "Give either stop_id or previous/next stops, not both.": (
        "Indiquez soit l'arrêt, soit les arrêts précédent et suivant, pas les deux."
    ),
    "Previous and next stops go together.": (
        "Indiquez l'arrêt précédent et l'arrêt suivant ensemble."
    ),
    "Give at least one of stop_id, coordinates or insee_code so the sheet can be routed.": (
        "Indiquez au moins l'arrêt, les coordonnées ou le code commune INSEE, pour que la "
        "fiche parvienne au service compétent."
    ),
    "Required when the incident is on board.": "Obligatoire pour un incident à bord.",
    "Must be 0 if and only if the severity is 'none'.": (
        "Le nombre de blessés est 0 si, et seulement si, la gravité est « aucune »."
    ),
    "Required when the suspects fled.": "Obligatoire quand les auteurs sont en fuite.",
    "Required for a staff victim.": "Obligatoire pour une victime membre du personnel.",
    "Only for a staff victim.": "Seulement pour une victime membre du personnel.",
    "Required when the victim wants to file a complaint.": (
        "Obligatoire quand la victime souhaite porter plainte."
    ),
    "Give a phone or an email.": "Indiquez un téléphone ou une adresse électronique.",
    "Required when video exists.": "Obligatoire quand des images existent.",
    "Must not be given when there is no video.": "À laisser vide quand il n'y a pas d'images.",
    # intake_service/places.py
    "No such route_id in your imported GTFS feed.": (
        "Cette ligne n'existe pas dans vos données GTFS importées."
    ),
    # intake_service/api/incidents.py: the answer to a reused operator_reference
    "Already used by an accepted sheet.": (
        "Une fiche a déjà été envoyée avec cette référence : indiquez une autre référence "
        "(ou retrouvez la première dans le suivi des fiches)."
    ),
    "No such stop_id in your imported GTFS feed.": (
        "Cet arrêt n'existe pas dans vos données GTFS importées : tapez son nom et "
        "choisissez-le dans la liste."
    ),
}

NARRATIVE_LENGTH = "Le récit doit compter de 20 à 4000 caractères : décrivez ce qui s'est passé."
# The same message for some fields says more in their words.
FIELD_MESSAGES = {
    ("natures", "Missing data for required field."): "Cochez au moins une nature.",
    ("natures", "Length must be between 1 and 5."): "Cochez de 1 à 5 natures.",
    ("video.sources", "Length must be between 1 and 4."): "Cochez au moins une source.",
    # Both of the narrative's checks say the same thing to the person typing it.
    ("narrative", "Must hold at least 20 characters besides spaces."): NARRATIVE_LENGTH,
    ("narrative", "Length must be between 20 and 4000."): NARRATIVE_LENGTH,
}


def _status_phrase(match: re.Match[str]) -> str:
    status = SUSPECT_STATUSES.get(match.group(1), match.group(1)).lower()
    return f"Au moins 1 quand les auteurs sont « {status} »."


# Messages that carry values: (pattern, French template or function of the match).
PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"Must be one of: .*\.\Z", re.S), "Choisissez une des valeurs proposées."),
    (
        re.compile(r"Must hold at least (\d+) characters besides spaces\.\Z"),
        r"Saisissez au moins \1 caractères (hors espaces).",
    ),
    (re.compile(r"Shorter than minimum length (\d+)\.\Z"), r"Trop court : au moins \1 caractères."),
    (re.compile(r"Longer than maximum length (\d+)\.\Z"), r"Trop long : au plus \1 caractères."),
    (
        re.compile(r"Length must be between (\d+) and (\d+)\.\Z"),
        r"De \1 à \2 caractères.",
    ),
    (re.compile(r"Length must be (\d+)\.\Z"), r"Exactement \1 caractères."),
    (
        re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.\Z"),
        r"Doit être compris entre \1 et \2.",
    ),
    (re.compile(r"Must be greater than or equal to (\S+)\.\Z"), r"Doit être au moins \1."),
    (re.compile(r"Must be less than or equal to (\S+)\.\Z"), r"Doit être au plus \1."),
    (re.compile(r"Must be at least 1 when the suspects are '(\w+)'\.\Z"), _status_phrase),
]
# A list's length is counted in items, not characters.
_LIST_LENGTH = re.compile(r"Length must be between (\d+) and (\d+)\.\Z")


def translate(message: str, field: str = "") -> str:
    """The French for a validation ``message`` about ``field`` (generic when unknown)."""
    generic = generic_path(field)
    if (generic, message) in FIELD_MESSAGES:
        return FIELD_MESSAGES[(generic, message)]
    if message in MESSAGES:
        return MESSAGES[message]
    if generic in LIST_FIELDS or generic == "victims":
        match = _LIST_LENGTH.match(message)
        if match:
            return f"Choisissez de {match.group(1)} à {match.group(2)} éléments."
    for pattern, french in PATTERNS:
        match = pattern.match(message)
        if match:
            return french(match) if callable(french) else match.expand(french)
    return GENERIC_MESSAGE


def french_errors(errors: list[dict[str, str]]) -> dict[str, list[str]]:
    """Flat ``{field, message}`` errors as French messages by the path the form shows.

    Keys keep the form's order of first appearance; a message is listed once per path.
    """
    shown: dict[str, list[str]] = {}
    for error in errors:
        path = shown_path(error["field"])
        french = translate(error["message"], error["field"])
        messages = shown.setdefault(path, [])
        if french not in messages:
            messages.append(french)
    return shown


# --- Form → sheet -----------------------------------------------------------------------

FormValues = Mapping[str, str | list[str]]


def local_to_iso(text: str) -> str:
    """A datetime-local value (Europe/Paris wall clock) as ISO 8601 with its offset.

    Unreadable text is returned as typed, for the schema to report.
    """
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.isoformat()


def iso_to_local(value: str | dt.datetime | None) -> str:
    """An instant as a datetime-local value in Europe/Paris (minutes), "" when unreadable."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def paris_time(value: str | dt.datetime | None) -> str:
    """An instant as French readers expect it, in Paris: « 14/03/2025 à 09:41 »."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def _typed(path: str, text: str) -> Any:
    generic = generic_path(path)
    if generic in INTEGER_FIELDS:
        try:
            return int(text)
        except ValueError:
            return text
    if generic in FLOAT_FIELDS:
        try:
            return float(text.replace(",", ".").replace(" ", ""))
        except ValueError:
            return text
    if generic in YES_NO_FIELDS:
        return {YES: True, NO: False}.get(text, text)
    if generic in CHECKBOX_FIELDS:
        return True
    if generic in LOCAL_DATETIME_FIELDS:
        return local_to_iso(text)
    return text


def _put(target: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[parts[-1]] = value


def _prune(node: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional objects (a contact nobody typed is no contact)."""
    for key in list(node):
        if isinstance(node[key], dict):
            _prune(node[key])
            if not node[key]:
                del node[key]
    return node


def victim_indexes(values: FormValues) -> list[int]:
    """The victim numbers present in the form, in order."""
    found = set()
    for name in values:
        match = re.match(r"victims\.(\d+)\.", name)
        if match and int(match.group(1)) < 1000:
            found.add(int(match.group(1)))
    return sorted(found)


def compact_victims(values: FormValues) -> dict[str, str | list[str]]:
    """The form values with blank victim blocks dropped and the others numbered 0, 1, 2…

    The re-rendered form and the schema's error paths then use the same numbers.
    """
    kept: dict[str, str | list[str]] = {
        name: value for name, value in values.items() if not name.startswith("victims.")
    }
    number = 0
    for index in victim_indexes(values):
        prefix = f"victims.{index}."
        block = {
            name[len(prefix) :]: value for name, value in values.items() if name.startswith(prefix)
        }
        # Unticked checkboxes are not posted: a block with no text at all is blank.
        if not any(str(value).strip() for value in block.values()):
            continue
        for name, value in block.items():
            kept[f"victims.{number}.{name}"] = value
        number += 1
    return kept


def form_to_sheet(values: FormValues) -> dict[str, Any]:
    """The sheet the form describes, shaped as the API receives it.

    ``values`` maps each field's dotted path to its text (a list for the fields of
    ``LIST_FIELDS``). Empty inputs are absent keys; empty optional objects are
    dropped, blank victim blocks too; the victims are numbered in form order.
    """
    sheet: dict[str, Any] = {name: {} for name in sorted(REQUIRED_OBJECTS)}
    victims: dict[int, dict[str, Any]] = {}
    for name, raw in values.items():
        if not name or name == "csrf_token" or len(name) > 100:
            continue
        parts = name.split(".")
        if generic_path(name) in LIST_FIELDS:
            items = raw if isinstance(raw, list) else [raw]
            chosen = [item.strip() for item in items if item.strip()]
            if chosen:
                _put(sheet, parts, chosen)
            continue
        text = (raw[0] if raw else "") if isinstance(raw, list) else raw
        text = text.strip()
        if not text:
            continue
        value = _typed(name, text)
        if parts[0] == "victims":
            if len(parts) < 3 or not parts[1].isdigit() or int(parts[1]) >= 1000:
                continue
            _put(victims.setdefault(int(parts[1]), {}), parts[2:], value)
        else:
            _put(sheet, parts, value)
    location = sheet["location"]
    coordinates = location.get("coordinates") if isinstance(location, dict) else None
    # A source chosen (or a precision left) with no point is no position at all.
    if isinstance(coordinates, dict) and not ({"lat", "lon"} & coordinates.keys()):
        del location["coordinates"]
    required = {name: sheet.pop(name) for name in REQUIRED_OBJECTS}
    _prune(sheet)
    for name, node in required.items():
        sheet[name] = _prune(node) if isinstance(node, dict) else node
    sheet["victims"] = [_prune(victim) for _, victim in sorted(victims.items()) if victim]
    # Unticked consents are false: the sheet says so explicitly.
    for victim in sheet["victims"]:
        if any(key != "consents" for key in victim):
            consents = victim.setdefault("consents", {})
            for consent in CONSENTS:
                consents.setdefault(consent, False)
    return _ordered(sheet)


SHEET_ORDER = (
    "operator_reference",
    "channel",
    "reported_by",
    "occurred_at",
    "state",
    "natures",
    "primary_nature",
    "narrative",
    "location",
    "injuries",
    "emergency_services_called",
    "suspects",
    "victims",
    "witnesses_count",
    "video",
    "references",
)


def _ordered(sheet: dict[str, Any]) -> dict[str, Any]:
    """The sheet's keys in the documented order (unknown ones last: the schema refuses them)."""
    ordered = {key: sheet[key] for key in SHEET_ORDER if key in sheet}
    ordered.update({key: value for key, value in sheet.items() if key not in ordered})
    return ordered


def suggested_reference(operator_code: str, now: dt.datetime) -> str:
    """A reference unlikely to be taken already: ``TISSEO-20250314-094112`` (Paris time)."""
    local = now.astimezone(PARIS)
    return f"{operator_code.upper()}-{local:%Y%m%d-%H%M%S}"
