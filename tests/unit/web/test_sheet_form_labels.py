"""The sheet form's pure parts: French messages, field anchors, and the form → sheet conversion.

The vocabularies' labels are checked in ``test_labels.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from marshmallow import ValidationError

from intake_service.web import sheet_form_labels as labels
from schemas.errors import flatten_errors
from schemas.sheet import SheetSchema, evaluated_at

NOW = dt.datetime(2025, 3, 14, 8, 41, 12, tzinfo=dt.UTC)  # 09:41:12 in Paris (UTC+1)


@pytest.mark.parametrize(
    ("message", "field", "french"),
    [
        ("Missing data for required field.", "channel", "Champ obligatoire."),
        ("Missing data for required field.", "natures", "Cochez au moins une nature."),
        (
            "Required when the incident is in progress.",
            "reported_by.callback_phone",
            "Obligatoire quand l'incident est en cours.",
        ),
        (
            "Must hold at least 20 characters besides spaces.",
            "narrative",
            labels.NARRATIVE_LENGTH,
        ),
        (
            "Must hold at least 3 characters besides spaces.",
            "x",
            "Saisissez au moins 3 caractères (hors espaces).",
        ),
        (
            "Must be one of: on_board, platform.",
            "location.place",
            "Choisissez une des valeurs proposées.",
        ),
        ("Length must be between 1 and 64.", "operator_reference", "De 1 à 64 caractères."),
        ("Length must be between 1 and 5.", "natures", "Cochez de 1 à 5 natures."),
        ("Length must be between 0 and 20.", "victims", "Choisissez de 0 à 20 éléments."),
        (
            "Must be greater than or equal to 0 and less than or equal to 10000.",
            "injuries.count",
            "Doit être compris entre 0 et 10000.",
        ),
        (
            "Must be at least 1 when the suspects are 'fled'.",
            "suspects.count",
            "Au moins 1 quand les auteurs sont « en fuite ».",
        ),
        (
            "Required for a staff victim.",
            "victims.3.on_duty",
            "Obligatoire pour une victime membre du personnel.",
        ),
        ("Not a valid integer.", "suspects.count", "Saisissez un nombre entier."),
        (
            "Already used by an accepted sheet.",
            "operator_reference",
            labels.MESSAGES["Already used by an accepted sheet."],
        ),
        ("Something nobody translated yet.", "narrative", "Valeur invalide."),
    ],
)
def test_messages_are_translated(message: str, field: str, french: str) -> None:
    assert labels.translate(message, field) == french


def _schema_messages() -> set[str]:
    """Every fixed message ``schemas/sheet.py`` and ``intake/places.py`` may give."""
    import inspect
    import re

    from intake_service.intake import places
    from schemas import fields, sheet

    found: set[str] = set()
    for module in (sheet, fields, places):
        source = inspect.getsource(module)
        for literal in re.findall(
            r'(?<!")"((?:Must|Required|Only|Give|Previous|The point|An |No such|'
            r"Not a|Values)[^\"{]*?\.)\"",
            source,
        ):
            found.add(literal)
    # Messages split over two source lines.
    found.add(
        "An incident in progress must have occurred within the last 60 minutes; "
        "use 'just_happened' or 'over'."
    )
    found.add("Give at least one of stop_id, coordinates or insee_code so the sheet can be routed.")
    found.discard("An incident in progress must have occurred within the last 60 minutes; ")
    return {message for message in found if message.endswith(".")}


def test_every_rule_message_of_the_schema_has_its_own_french() -> None:
    untranslated = {
        message
        for message in _schema_messages()
        if labels.translate(message) == labels.GENERIC_MESSAGE
    }
    assert not untranslated


@pytest.mark.parametrize(
    ("path", "shown", "anchor", "label"),
    [
        (
            "location.coordinates.lat",
            "location.coordinates.lat",
            "champ-location-coordinates-lat",
            "Latitude",
        ),
        (
            "victims.1.contact.phone",
            "victims.1.contact.phone",
            "champ-victims-1-contact-phone",
            "Victime 2 — Téléphone du contact",
        ),
        ("victims.0", "victims.0", "champ-victims-0", "Victime 1"),
        ("location.nowhere", "location", "champ-location", "Lieu"),
        ("bogus", "", "champ-fiche", "Fiche"),
    ],
)
def test_errors_are_shown_at_the_nearest_field_of_the_form(
    path: str, shown: str, anchor: str, label: str
) -> None:
    assert labels.shown_path(path) == shown
    assert labels.field_anchor(shown) == anchor
    assert labels.field_label(shown) == label


def test_french_errors_group_by_field_and_drop_repeats() -> None:
    errors = [
        {"field": "narrative", "message": "Missing data for required field."},
        {"field": "location.bogus", "message": "Unknown field."},
        {"field": "location", "message": "Unknown field."},
    ]
    assert labels.french_errors(errors) == {
        "narrative": ["Champ obligatoire."],
        "location": ["Champ inconnu."],
    }


# --- Form → sheet ---------------------------------------------------------------------------

FORM: dict[str, str | list[str]] = {
    "operator_reference": " TISSEO-20250314-094112 ",
    "channel": "web_form",
    "reported_by.role": "driver",
    "reported_by.name": "",
    "reported_by.callback_phone": "06 12 34 56 78",
    "occurred_at": "2025-03-14T09:30",
    "state": "in_progress",
    "natures": ["threat_or_insult_staff", "violence_passenger"],
    "primary_nature": "threat_or_insult_staff",
    "narrative": "Un voyageur a menacé le conducteur puis frappé un passager.",
    "location.mode": "3",
    "location.place": "on_board",
    "location.route_id": "demo:14",
    "location.direction_id": "",
    "location.headsign": "Arènes",
    "location.stop_id": "demo:SP_jeanne-darc_14",
    "location.vehicle_id": "1234",
    "location.vehicle_position": "front",
    "location.coordinates.lat": "43,60938",
    "location.coordinates.lon": "1.44649",
    "location.coordinates.accuracy_m": "12",
    "location.coordinates.source": "gps",
    "location.insee_code": "",
    "location.address": "",
    "injuries.count": "1",
    "injuries.severity": "minor",
    "emergency_services_called": "non",
    "suspects.count": "1",
    "suspects.status": "fled",
    "suspects.flight_direction": "Vers la place Jeanne d'Arc, à pied",
    "suspects.description": "Veste rouge, casquette noire",
    "suspects.weapon": "none",
    "victims.0.kind": "staff",
    "victims.0.staff_function": "driver",
    "victims.0.on_duty": "oui",
    "victims.0.injury": "none",
    "victims.0.wants_to_file_complaint": "yes",
    "victims.0.contact.name": "Paul Martin",
    "victims.0.contact.phone": "06 98 76 54 32",
    "victims.0.contact.email": "",
    "victims.0.consents.appointment_contact": "oui",
    "victims.1.kind": "",
    "victims.1.injury": "",
    "witnesses_count": "",
    "video.exists": "yes",
    "video.sources": ["on_board"],
    "video.erased_after": "2025-03-21T09:30",
    "references.alert_3117": "",
}


def test_form_to_sheet_builds_the_api_sheet() -> None:
    sheet = labels.form_to_sheet(FORM)
    assert list(sheet)[:3] == ["operator_reference", "channel", "reported_by"]
    assert sheet["operator_reference"] == "TISSEO-20250314-094112"
    assert sheet["reported_by"] == {"role": "driver", "callback_phone": "06 12 34 56 78"}
    assert sheet["occurred_at"] == "2025-03-14T09:30:00+01:00"
    assert sheet["location"]["mode"] == 3
    assert "direction_id" not in sheet["location"]
    assert sheet["location"]["coordinates"] == {
        "lat": 43.60938,
        "lon": 1.44649,
        "accuracy_m": 12.0,
        "source": "gps",
    }
    assert sheet["emergency_services_called"] is False
    assert sheet["victims"] == [
        {
            "kind": "staff",
            "staff_function": "driver",
            "on_duty": True,
            "injury": "none",
            "wants_to_file_complaint": "yes",
            "contact": {"name": "Paul Martin", "phone": "06 98 76 54 32"},
            "consents": {
                "appointment_contact": True,
                "victim_support_referral": False,
                "use_work_address": False,
            },
        }
    ]
    assert "witnesses_count" not in sheet
    assert "references" not in sheet
    assert sheet["video"]["erased_after"] == "2025-03-21T09:30:00+01:00"
    with evaluated_at(NOW):
        loaded = SheetSchema().load(sheet)
    assert loaded["occurred_at"] == dt.datetime(2025, 3, 14, 8, 30, tzinfo=dt.UTC)
    assert loaded["reported_by"]["callback_phone"] == "+33612345678"


def test_form_to_sheet_reads_paris_summer_time() -> None:
    sheet = labels.form_to_sheet({"occurred_at": "2025-07-14T22:15"})
    assert sheet["occurred_at"] == "2025-07-14T22:15:00+02:00"


def test_unreadable_values_are_passed_on_for_the_schema_to_name() -> None:
    form = dict(
        FORM,
        **{
            "injuries.count": "deux",
            "location.coordinates.lat": "nord",
            "occurred_at": "hier",
            "emergency_services_called": "peut-être",
        },
    )
    sheet = labels.form_to_sheet(form)
    with evaluated_at(NOW), pytest.raises(ValidationError) as caught:
        SheetSchema().load(sheet)
    french = labels.french_errors(flatten_errors(caught.value.messages))
    assert french["injuries.count"] == ["Saisissez un nombre entier."]
    assert french["location.coordinates.lat"] == ["Saisissez un nombre (par exemple 43.6045)."]
    assert french["occurred_at"] == ["Date et heure invalides."]
    assert french["emergency_services_called"] == ["Choisissez oui ou non."]


def test_an_empty_form_names_every_required_field_in_french() -> None:
    sheet = labels.form_to_sheet({"victims.0.kind": "", "location.coordinates.source": "gps"})
    assert sheet["victims"] == []
    assert "coordinates" not in sheet["location"]
    with evaluated_at(NOW), pytest.raises(ValidationError) as caught:
        SheetSchema().load(sheet)
    french = labels.french_errors(flatten_errors(caught.value.messages))
    for path in (
        "operator_reference",
        "channel",
        "reported_by.role",
        "occurred_at",
        "narrative",
        "location.mode",
        "location.place",
        "injuries.count",
        "suspects.weapon",
        "video.exists",
    ):
        assert french[path] == ["Champ obligatoire."], path
    assert french["natures"] == ["Cochez au moins une nature."]
    assert french["location"] == [
        labels.MESSAGES[
            "Give at least one of stop_id, coordinates or insee_code so the sheet can be routed."
        ]
    ]


def test_cross_field_errors_in_french() -> None:
    form = dict(
        FORM,
        **{
            "reported_by.callback_phone": "",
            "narrative": "Trop court",
            "location.vehicle_id": "",
            "suspects.flight_direction": "",
        },
    )
    with evaluated_at(NOW), pytest.raises(ValidationError) as caught:
        SheetSchema().load(labels.form_to_sheet(form))
    french = labels.french_errors(flatten_errors(caught.value.messages))
    assert french == {
        "reported_by.callback_phone": ["Obligatoire quand l'incident est en cours."],
        "narrative": [labels.NARRATIVE_LENGTH],
        "location.vehicle_id": ["Obligatoire pour un incident à bord."],
        "suspects.flight_direction": ["Obligatoire quand les auteurs sont en fuite."],
    }


def test_blank_victim_blocks_are_dropped_and_the_others_renumbered() -> None:
    form: dict[str, str | list[str]] = {
        "victims.0.kind": "",
        "victims.0.injury": "",
        "victims.3.kind": "passenger",
        "victims.3.injury": "minor",
        "victims.7.consents.victim_support_referral": "oui",
    }
    compacted = labels.compact_victims(form)
    assert compacted == {
        "victims.0.kind": "passenger",
        "victims.0.injury": "minor",
        "victims.1.consents.victim_support_referral": "oui",
    }
    sheet = labels.form_to_sheet(compacted)
    assert [victim.get("kind") for victim in sheet["victims"]] == ["passenger", None]
    assert labels.victim_indexes(compacted) == [0, 1]


def test_times_for_the_form_and_the_receipt_are_in_paris() -> None:
    assert labels.iso_to_local(NOW) == "2025-03-14T09:41"
    assert labels.iso_to_local("2025-07-14T20:15:00+00:00") == "2025-07-14T22:15"
    assert labels.paris_time("2025-07-14T20:15:00Z") == "14/07/2025 à 22:15"
    assert labels.suggested_reference("tisseo", NOW) == "TISSEO-20250314-094112"


@pytest.mark.parametrize(
    "form",
    [
        {"location": "quai", "reported_by.role.x": "driver", "victims": "2"},
        {"victims.x.kind": "staff", "victims.0": "staff", "victims.5000.kind": "staff"},
        {"natures.0": "theft", "location.coordinates": "43,1", "injuries.count.x": "1"},
        {"": "x", "a" * 200: "y", "natures": "theft", "video.sources": ["", " "]},
    ],
)
def test_tampered_forms_give_validation_errors_not_crashes(form: dict[str, Any]) -> None:
    sheet = labels.form_to_sheet(labels.compact_victims(form))
    with evaluated_at(NOW), pytest.raises(ValidationError) as caught:
        SheetSchema().load(sheet)
    french = labels.french_errors(flatten_errors(caught.value.messages))
    assert french
    assert all(labels.field_label(path) for path in french)
