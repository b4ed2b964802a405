"""The sheet form's own French, and the form ↔ sheet conversion: pure, no Flask.

The labels of the vocabularies and of the sheet's fields are shared with the other
pages (``labels``). Three things are the form's own, all table-driven so they are
tested as tables:

- the form's fields: their anchors, and their labels as the error summary says them;
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

from intake_service.platform.clock import PARIS
from intake_service.platform.labels import (
    CONSENT_LABELS,
    FIELD_LABELS,
    SUSPECT_STATUS_LABELS,
    in_sentence,
)
from intake_service.web.wording import GENERIC_MESSAGE, VALIDATION_MESSAGES

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
CHECKBOX_FIELDS = frozenset(f"victims.#.consents.{name}" for name in CONSENT_LABELS)
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

DUPLICATE_REFERENCE = "Already used by an accepted sheet."

MESSAGES = {
    **VALIDATION_MESSAGES,
    # schemas/sheet.py: fields
    "Values must be unique.": "Chaque valeur ne peut être choisie qu'une fois.",
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
    status = in_sentence(SUSPECT_STATUS_LABELS.get(match.group(1), match.group(1)))
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
            for consent in CONSENT_LABELS:
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
