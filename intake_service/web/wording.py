"""The API's validation messages in French, one table for every form of the pages.

Keyed by the English message marshmallow or a schema gives (the API answers those);
a form adds its own words for a field where they say more (``sheet_form_labels``,
``gpo_forms``). Pure.
"""

from __future__ import annotations

GENERIC_MESSAGE = "Valeur invalide."

VALIDATION_MESSAGES = {
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
    "Not a valid datetime: out of range.": "Date et heure hors des limites (an 1 à 9999).",
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
    # schemas/sheet.py and schemas/gpo.py
    "The point is not in France (WGS84 lat/lon).": (
        "Ce point n'est pas en France (latitude et longitude en degrés décimaux, WGS84)."
    ),
    # schemas/gpo.py
    "Not a valid date.": "Date invalide.",
    "Must not be blank.": "Ne doit pas être vide.",
    "From 50 to 5000 metres.": "Un rayon de 50 à 5 000 m.",
    "from and to must differ (to is exclusive; leave hours out for any hour).": (
        "Les heures de début et de fin doivent différer (laissez vide pour toute heure)."
    ),
    "The due date is before the start date.": "L'échéance est avant le début.",
    "The due date is before the start.": "L'échéance est avant le début.",
    "At most 200 values.": "200 au plus.",
    "0 (Monday) to 6.": "Jour invalide.",
    "An hour from 0 to 23.": "Une heure de 0 à 23.",
}
