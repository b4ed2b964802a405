"""Each rule of the common incident sheet (``shared/domain/incident-sheet.md``), case by case.

Every case starts from one valid sheet, ``examples/sheets/valid/p1-driver-assaulted-on-board.json``
(a driver assaulted on board a Linéo bus, in progress, with coordinates and a staff victim),
and changes a few dotted paths. An accepted case reports nothing; a rejected case reports
exactly the listed field paths and nothing else. Time bounds are checked at the examples'
reference instant.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError

from schemas.errors import flatten_errors
from schemas.sheet import SheetSchema, evaluated_at

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sheets"
BASE: dict[str, Any] = json.loads(
    (EXAMPLES / "valid" / "p1-driver-assaulted-on-board.json").read_text(encoding="utf-8")
)
REFERENCE = dt.datetime.fromisoformat("2026-03-14T18:30:00+01:00")
DELETE = object()
"""Value of a change that removes the key."""


def variant(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The base sheet with each dotted path (``"victims.0.contact.phone"``) set or deleted."""
    sheet = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node: Any = sheet
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(leaf) if isinstance(node, list) else leaf
        if value is DELETE:
            del node[key]
        else:
            node[key] = copy.deepcopy(value)
    return sheet


def errors(sheet: dict[str, Any]) -> list[dict[str, str]]:
    with evaluated_at(REFERENCE):
        try:
            SheetSchema().load(sheet)
        except ValidationError as error:
            return flatten_errors(error.messages)
    return []


def error_fields(sheet: dict[str, Any]) -> set[str]:
    return {error["field"] for error in errors(sheet)}


def load(sheet: dict[str, Any]) -> dict[str, Any]:
    with evaluated_at(REFERENCE):
        loaded: dict[str, Any] = SheetSchema().load(sheet)
    return loaded


def at(**delta: float) -> str:
    """The reference instant moved by ``delta`` (negative: before), in Paris winter time."""
    return (REFERENCE + dt.timedelta(**delta)).isoformat()


OVER_NOWHERE = {"state": "over", "location.stop_id": DELETE, "location.coordinates": DELETE}
"""An over sheet whose location gives none of the routable keys: add one back to route it."""

STAFF_WANTS_COMPLAINT = {"victims.0.wants_to_file_complaint": "yes"}
PASSENGER = {"victims.0": {"kind": "passenger", "injury": "minor"}}
BETWEEN_STOPS = {
    "location.stop_id": DELETE,
    "location.previous_stop_id": "stop_point:SP_2569",
    "location.next_stop_id": "stop_point:SP_1336",
}
METRO_PLATFORM = {
    "location.mode": 1,
    "location.place": "platform",
    "location.route_id": "line:61",
    "location.vehicle_id": DELETE,
}


def case(rule: str, changes: Mapping[str, Any], *fields: str) -> Any:
    return pytest.param(dict(changes), set(fields), id=rule)


ACCEPTED = [
    # Identification
    case("operator_reference-64-chars", {"operator_reference": "T" * 64}),
    case("channel-relay_3117", {"channel": "relay_3117"}),
    case("reporter-name-optional", {"reported_by.name": DELETE}),
    case(
        "callback_phone-optional-when-over", {"state": "over", "reported_by.callback_phone": DELETE}
    ),
    # When and what
    case("occurred_at-utc-z", {"occurred_at": "2026-03-14T17:24:00Z"}),
    case("state-just_happened", {"state": "just_happened"}),
    case(
        "natures-five", {"natures": ["physical_assault_staff", "weapon", "drugs", "theft", "other"]}
    ),
    case("primary_nature-any-of-natures", {"primary_nature": "threat_or_insult_staff"}),
    case("narrative-20-chars", {"narrative": "x" * 20}),
    case("narrative-4000-chars", {"narrative": "x" * 4000}),
    # Where
    case("mode-tram", {"location.mode": 0}),
    case("mode-trolleybus", {"location.mode": 11}),
    case("mode-monorail", {"location.mode": 12}),
    case("routable-by-stop_id-only", {**OVER_NOWHERE, "location.stop_id": "stop_area:SA_1099"}),
    case("routable-by-parent-station", {"location.stop_id": "stop_area:SA_1765"}),
    case(
        "routable-by-coordinates-only",
        {**OVER_NOWHERE, "location.coordinates": BASE["location"]["coordinates"]},
    ),
    case("routable-by-insee_code-only", {**OVER_NOWHERE, "location.insee_code": "31555"}),
    case("on-board-between-stops", BETWEEN_STOPS),
    case("off-board-without-route-or-vehicle", METRO_PLATFORM),
    case("direction_id-1", {"location.direction_id": 1}),
    case("vehicle_position-optional", {"location.vehicle_position": DELETE}),
    case("coordinates-optional-when-over", {"state": "over", "location.coordinates": DELETE}),
    case("coordinates-accuracy-optional", {"location.coordinates.accuracy_m": DELETE}),
    case(
        "coordinates-corsica",
        {"location.coordinates.lat": 41.9192, "location.coordinates.lon": 8.7386},
    ),
    case(
        "coordinates-reunion",
        {"location.coordinates.lat": -20.8787, "location.coordinates.lon": 55.4486},
    ),
    case(
        "coordinates-guyane",
        {"location.coordinates.lat": 4.9372, "location.coordinates.lon": -52.326},
    ),
    case("insee_code-corsica-2A", {"location.insee_code": "2A004"}),
    case("insee_code-corsica-2B", {"location.insee_code": "2B033"}),
    case("insee_code-overseas", {"location.insee_code": "97411"}),
    case("address-200-chars", {"location.address": "a" * 200}),
    # People and danger
    case("injuries-none", {"injuries": {"count": 0, "severity": "none"}}),
    case("injuries-several-hospitalised", {"injuries": {"count": 3, "severity": "hospitalised"}}),
    case(
        "suspects-fled-with-direction",
        {"suspects.status": "fled", "suspects.flight_direction": "Vers le métro"},
    ),
    case("suspects-unknown-none-counted", {"suspects.status": "unknown", "suspects.count": 0}),
    case("suspects-description-500-chars", {"suspects.description": "d" * 500}),
    case("suspects-description-optional", {"suspects.description": DELETE}),
    case("victims-none", {"victims": []}),
    case("victims-twenty", {"victims": [{"kind": "passenger", "injury": "none"}] * 20}),
    case("passenger-victim-without-staff-fields", PASSENGER),
    case(
        "third-party-victim-with-contact",
        {
            "victims.0": {
                "kind": "third_party",
                "injury": "none",
                "contact": {"name": "Paul Témoin", "email": "p.temoin@example.org"},
            }
        },
    ),
    case(
        "complaint-with-contact-phone",
        {
            **STAFF_WANTS_COMPLAINT,
            "victims.0.contact": {"name": "A. Fictif", "phone": "06 12 34 56 78"},
        },
    ),
    case(
        "complaint-with-contact-email",
        {
            **STAFF_WANTS_COMPLAINT,
            "victims.0.contact": {"name": "A. Fictif", "email": "a.fictif@example.org"},
        },
    ),
    case("complaint-no-without-contact", {"victims.0.wants_to_file_complaint": "no"}),
    case("consents-optional-fields", {"victims.0.consents": {"appointment_contact": True}}),
    case("witnesses_count-zero", {"witnesses_count": 0}),
    case("witnesses_count-optional", {"witnesses_count": DELETE}),
    # Evidence and references
    case("video-no", {"video": {"exists": "no"}}),
    case("video-unknown", {"video": {"exists": "unknown"}}),
    case(
        "video-all-sources",
        {"video.sources": ["on_board", "station", "body_camera", "forward_facing"]},
    ),
    case(
        "references",
        {
            "references": {
                "alert_3117": "3117-1",
                "police_case_number": "2026/1",
                "previous_operator_reference": "TSO-1",
            }
        },
    ),
]

REJECTED = [
    # Identification
    case("operator_reference-missing", {"operator_reference": DELETE}, "operator_reference"),
    case("operator_reference-empty", {"operator_reference": ""}, "operator_reference"),
    case("operator_reference-65-chars", {"operator_reference": "T" * 65}, "operator_reference"),
    case("channel-unknown", {"channel": "sms"}, "channel"),
    case("reported_by-missing", {"reported_by": DELETE}, "reported_by"),
    case("reporter-role-missing", {"reported_by.role": DELETE}, "reported_by.role"),
    case("reporter-role-unknown", {"reported_by.role": "police"}, "reported_by.role"),
    case("reporter-name-101-chars", {"reported_by.name": "n" * 101}, "reported_by.name"),
    case(
        "callback_phone-required-in-progress",
        {"reported_by.callback_phone": DELETE},
        "reported_by.callback_phone",
    ),
    # When and what
    case("occurred_at-missing", {"occurred_at": DELETE}, "occurred_at"),
    case("occurred_at-without-offset", {"occurred_at": "2026-03-14T18:24:00"}, "occurred_at"),
    case("occurred_at-not-a-date", {"occurred_at": "samedi soir"}, "occurred_at"),
    case("state-missing", {"state": DELETE}, "state"),
    case("state-unknown", {"state": "finished"}, "state"),
    case("natures-missing", {"natures": DELETE}, "natures"),
    case("natures-empty", {"natures": []}, "natures"),
    case(
        "natures-six",
        {"natures": ["physical_assault_staff", "weapon", "drugs", "theft", "other", "incivility"]},
        "natures",
    ),
    case(
        "natures-duplicated",
        {"natures": ["physical_assault_staff", "physical_assault_staff"]},
        "natures",
    ),
    case("natures-unknown-value", {"natures": ["physical_assault_staff", "robbery"]}, "natures.1"),
    case("primary_nature-missing", {"primary_nature": DELETE}, "primary_nature"),
    case("primary_nature-not-in-natures", {"primary_nature": "theft"}, "primary_nature"),
    case("primary_nature-unknown", {"primary_nature": "robbery"}, "primary_nature"),
    case("narrative-missing", {"narrative": DELETE}, "narrative"),
    case("narrative-19-chars", {"narrative": "x" * 19}, "narrative"),
    case("narrative-4001-chars", {"narrative": "x" * 4001}, "narrative"),
    # Where
    case("location-missing", {"location": DELETE}, "location"),
    case("location-not-routable", OVER_NOWHERE, "location"),
    case("mode-missing", {"location.mode": DELETE}, "location.mode"),
    case("mode-8-not-gtfs", {"location.mode": 8}, "location.mode"),
    case("mode-13", {"location.mode": 13}, "location.mode"),
    case("mode-as-string", {"location.mode": "3"}, "location.mode"),
    case("place-missing", {"location.place": DELETE}, "location.place"),
    case("place-unknown", {"location.place": "bus"}, "location.place"),
    case("on-board-without-route_id", {"location.route_id": DELETE}, "location.route_id"),
    case("on-board-without-vehicle_id", {"location.vehicle_id": DELETE}, "location.vehicle_id"),
    case("direction_id-2", {"location.direction_id": 2}, "location.direction_id"),
    case(
        "vehicle_position-unknown",
        {"location.vehicle_position": "back"},
        "location.vehicle_position",
    ),
    case(
        "between-stops-and-stop_id",
        {**BETWEEN_STOPS, "location.stop_id": "stop_point:SP_2569"},
        "location.stop_id",
    ),
    case(
        "between-stops-without-next",
        {"location.stop_id": DELETE, "location.previous_stop_id": "stop_point:SP_2569"},
        "location.next_stop_id",
    ),
    case(
        "between-stops-without-previous",
        {"location.stop_id": DELETE, "location.next_stop_id": "stop_point:SP_1336"},
        "location.previous_stop_id",
    ),
    case(
        "between-stops-not-on-board",
        {**BETWEEN_STOPS, **METRO_PLATFORM},
        "location.previous_stop_id",
    ),
    case(
        "coordinates-required-in-progress", {"location.coordinates": DELETE}, "location.coordinates"
    ),
    case(
        "coordinates-swapped",
        {"location.coordinates.lat": 1.41251, "location.coordinates.lon": 43.57992},
        "location.coordinates.lat",
    ),
    case(
        "coordinates-zero-zero",
        {"location.coordinates.lat": 0, "location.coordinates.lon": 0},
        "location.coordinates.lat",
    ),
    case(
        "coordinates-lat-out-of-range", {"location.coordinates.lat": 91}, "location.coordinates.lat"
    ),
    case(
        "coordinates-lon-missing", {"location.coordinates.lon": DELETE}, "location.coordinates.lon"
    ),
    case(
        "coordinates-source-missing",
        {"location.coordinates.source": DELETE},
        "location.coordinates.source",
    ),
    case(
        "coordinates-source-unknown",
        {"location.coordinates.source": "wifi"},
        "location.coordinates.source",
    ),
    case(
        "coordinates-accuracy-negative",
        {"location.coordinates.accuracy_m": -1},
        "location.coordinates.accuracy_m",
    ),
    case("insee_code-4-digits", {"location.insee_code": "3155"}, "location.insee_code"),
    case("insee_code-2C", {"location.insee_code": "2C004"}, "location.insee_code"),
    case("insee_code-lowercase-2a", {"location.insee_code": "2a004"}, "location.insee_code"),
    case("insee_code-with-space", {"location.insee_code": "31 555"}, "location.insee_code"),
    case("address-201-chars", {"location.address": "a" * 201}, "location.address"),
    # People and danger
    case("injuries-missing", {"injuries": DELETE}, "injuries"),
    case(
        "injuries-zero-but-minor", {"injuries": {"count": 0, "severity": "minor"}}, "injuries.count"
    ),
    case("injuries-two-but-none", {"injuries": {"count": 2, "severity": "none"}}, "injuries.count"),
    case("injuries-negative", {"injuries.count": -1}, "injuries.count"),
    case("injuries-severity-unknown", {"injuries.severity": "serious"}, "injuries.severity"),
    case(
        "emergency_services_called-missing",
        {"emergency_services_called": DELETE},
        "emergency_services_called",
    ),
    case("suspects-missing", {"suspects": DELETE}, "suspects"),
    case("suspects-status-unknown-value", {"suspects.status": "gone"}, "suspects.status"),
    case(
        "suspects-fled-without-direction", {"suspects.status": "fled"}, "suspects.flight_direction"
    ),
    case("suspects-on-site-none-counted", {"suspects.count": 0}, "suspects.count"),
    case(
        "suspects-description-501-chars",
        {"suspects.description": "d" * 501},
        "suspects.description",
    ),
    case("suspects-weapon-missing", {"suspects.weapon": DELETE}, "suspects.weapon"),
    case("suspects-weapon-unknown-value", {"suspects.weapon": "gun"}, "suspects.weapon"),
    case("victims-missing", {"victims": DELETE}, "victims"),
    case(
        "victims-twenty-one", {"victims": [{"kind": "passenger", "injury": "none"}] * 21}, "victims"
    ),
    case("victim-kind-unknown", {"victims.0.kind": "driver"}, "victims.0.kind"),
    case("victim-injury-missing", {"victims.0.injury": DELETE}, "victims.0.injury"),
    case(
        "staff-victim-without-function",
        {"victims.0.staff_function": DELETE},
        "victims.0.staff_function",
    ),
    case("staff-victim-without-on_duty", {"victims.0.on_duty": DELETE}, "victims.0.on_duty"),
    case(
        "staff-victim-without-complaint-wish",
        {"victims.0.wants_to_file_complaint": DELETE},
        "victims.0.wants_to_file_complaint",
    ),
    case(
        "staff-victim-complaint-wish-unknown",
        {"victims.0.wants_to_file_complaint": "maybe"},
        "victims.0.wants_to_file_complaint",
    ),
    case(
        "passenger-victim-with-complaint-wish",
        {**PASSENGER, "victims.0.wants_to_file_complaint": "no"},
        "victims.0.wants_to_file_complaint",
    ),
    case(
        "passenger-victim-with-function",
        {**PASSENGER, "victims.0.staff_function": "driver"},
        "victims.0.staff_function",
    ),
    case(
        "passenger-victim-with-on_duty",
        {**PASSENGER, "victims.0.on_duty": False},
        "victims.0.on_duty",
    ),
    case("complaint-without-contact", STAFF_WANTS_COMPLAINT, "victims.0.contact"),
    case(
        "contact-without-phone-or-email",
        {**STAFF_WANTS_COMPLAINT, "victims.0.contact": {"name": "A. Fictif"}},
        "victims.0.contact.phone",
    ),
    case(
        "contact-without-name",
        {**STAFF_WANTS_COMPLAINT, "victims.0.contact": {"phone": "06 12 34 56 78"}},
        "victims.0.contact.name",
    ),
    case(
        "contact-email-invalid",
        {
            "victims.0.contact": {
                "name": "A. Fictif",
                "phone": "06 12 34 56 78",
                "email": "a.fictif@",
            }
        },
        "victims.0.contact.email",
    ),
    case(
        "consents-not-boolean",
        {"victims.0.consents": {"appointment_contact": "peut-être"}},
        "victims.0.consents.appointment_contact",
    ),
    case("witnesses_count-negative", {"witnesses_count": -1}, "witnesses_count"),
    case("witnesses_count-as-string", {"witnesses_count": "3"}, "witnesses_count"),
    # Evidence and references
    case("video-missing", {"video": DELETE}, "video"),
    case("video-exists-unknown-value", {"video.exists": "maybe"}, "video.exists"),
    case("video-yes-without-sources", {"video.sources": DELETE}, "video.sources"),
    case("video-yes-without-erased_after", {"video.erased_after": DELETE}, "video.erased_after"),
    case("video-yes-sources-empty", {"video.sources": []}, "video.sources"),
    case(
        "video-yes-sources-duplicated", {"video.sources": ["on_board", "on_board"]}, "video.sources"
    ),
    case(
        "video-erased_after-without-offset",
        {"video.erased_after": "2026-03-21T18:24:00"},
        "video.erased_after",
    ),
    case(
        "video-no-with-sources",
        {"video": {"exists": "no", "sources": ["on_board"]}},
        "video.sources",
    ),
    case(
        "video-no-with-erased_after",
        {"video": {"exists": "no", "erased_after": at(days=7)}},
        "video.erased_after",
    ),
    case(
        "references-65-chars",
        {"references": {"police_case_number": "n" * 65}},
        "references.police_case_number",
    ),
]


def test_base_sheet_is_valid() -> None:
    assert errors(BASE) == []


@pytest.mark.parametrize(("changes", "expected"), ACCEPTED)
def test_accepted(changes: dict[str, Any], expected: set[str]) -> None:
    assert error_fields(variant(changes)) == expected == set()


@pytest.mark.parametrize(("changes", "expected"), REJECTED)
def test_rejected_with_exactly_its_fields(changes: dict[str, Any], expected: set[str]) -> None:
    assert error_fields(variant(changes)) == expected


WITH_CONTACT_AND_CONSENTS = {
    **STAFF_WANTS_COMPLAINT,
    "victims.0.contact": {"name": "A. Fictif", "email": "a.fictif@example.org"},
    "victims.0.consents": {},
    "references": {},
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("narative", "Le conducteur est frappé par un voyageur."),
        ("reported_by.phone", "06 12 34 56 78"),
        ("location.stopid", "stop_point:SP_2569"),
        ("location.coordinates.alt", 150),
        ("injuries.cnt", 1),
        ("suspects.weapons", "blade"),
        ("victims.0.contact.tel", "06 12 34 56 78"),
        ("victims.0.consents.appointment", True),
        ("video.source", "on_board"),
        ("references.case", "2026/1"),
    ],
)
def test_unknown_keys_are_rejected_at_their_path(path: str, value: Any) -> None:
    sheet = variant({**WITH_CONTACT_AND_CONSENTS, path: value})

    assert errors(sheet) == [{"field": path, "message": "Unknown field."}]


# Phones: E.164 or French national format, stored in E.164.


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("05 36 49 10 20", "+33536491020"),
        ("+32 2 511 11 11", "+3225111111"),
        ("+262 262 90 12 34", "+262262901234"),
    ],
)
def test_phones_are_stored_in_e164(raw: str, stored: str) -> None:
    sheet = load(
        variant(
            {
                "reported_by.callback_phone": raw,
                **STAFF_WANTS_COMPLAINT,
                "victims.0.contact": {"name": "A. Fictif", "phone": raw},
            }
        )
    )
    assert sheet["reported_by"]["callback_phone"] == stored
    assert sheet["victims"][0]["contact"]["phone"] == stored


@pytest.mark.parametrize(
    "raw",
    ["12345", "06 12 34 56", "le standard", "06 12 34 56 78 90", "+33 6 12 34 56 78 " + "0" * 20],
)
def test_phones_that_are_not_numbers_are_rejected(raw: str) -> None:
    sheet = variant(
        {
            "state": "over",
            "reported_by.callback_phone": raw,
            **STAFF_WANTS_COMPLAINT,
            "victims.0.contact": {"name": "A. Fictif", "phone": raw, "email": "a@example.org"},
        }
    )
    assert error_fields(sheet) == {"reported_by.callback_phone", "victims.0.contact.phone"}


# Times: an offset is required; the service keeps UTC.


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2026-03-14T18:24:00+01:00", dt.datetime(2026, 3, 14, 17, 24, tzinfo=dt.UTC)),
        ("2026-03-14T21:24:00+04:00", dt.datetime(2026, 3, 14, 17, 24, tzinfo=dt.UTC)),
        ("2026-03-14T17:24:00Z", dt.datetime(2026, 3, 14, 17, 24, tzinfo=dt.UTC)),
    ],
)
def test_times_are_converted_to_utc(written: str, utc: dt.datetime) -> None:
    sheet = load(
        variant({"occurred_at": written, "video.erased_after": "2026-03-21T18:24:00+01:00"})
    )

    assert sheet["occurred_at"] == utc
    assert sheet["occurred_at"].utcoffset() == dt.timedelta(0)
    assert sheet["video"]["erased_after"] == dt.datetime(2026, 3, 21, 17, 24, tzinfo=dt.UTC)
    stored = SheetSchema().dump(sheet)
    assert stored["occurred_at"] == "2026-03-14T17:24:00+00:00"
    assert stored["video"]["erased_after"] == "2026-03-21T17:24:00+00:00"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"occurred_at": at(minutes=4)}, set(), id="future-4-min-accepted"),
        pytest.param({"occurred_at": at(minutes=5)}, set(), id="future-5-min-accepted"),
        pytest.param({"occurred_at": at(minutes=6)}, {"occurred_at"}, id="future-6-min-rejected"),
        pytest.param({"occurred_at": at(minutes=-60)}, set(), id="in-progress-60-min-accepted"),
        pytest.param({"occurred_at": at(minutes=-61)}, {"state"}, id="in-progress-61-min-rejected"),
        pytest.param(
            {"occurred_at": at(minutes=-61), "state": "just_happened"},
            set(),
            id="just-happened-61-min-accepted",
        ),
        pytest.param(
            {"occurred_at": "2020-03-14T18:30:00+01:00", "state": "over"},
            set(),
            id="six-years-to-the-day-accepted",
        ),
        pytest.param(
            {"occurred_at": "2020-03-11T18:30:00+01:00", "state": "over"},
            {"occurred_at"},
            id="six-years-and-three-days-rejected",
        ),
        pytest.param(
            {"occurred_at": "2019-11-02T08:00:00+01:00", "state": "over"},
            {"occurred_at"},
            id="seven-years-rejected",
        ),
    ],
)
def test_time_bounds(changes: dict[str, Any], expected: set[str]) -> None:
    assert error_fields(variant(changes)) == expected


def test_time_bounds_follow_the_reference_instant() -> None:
    sheet = variant({})
    with evaluated_at(REFERENCE + dt.timedelta(hours=2)), pytest.raises(ValidationError) as raised:
        SheetSchema().load(sheet)
    assert {error["field"] for error in flatten_errors(raised.value.messages)} == {"state"}


def test_consents_default_to_false() -> None:
    sheet = load(variant({"victims.0.consents": {"victim_support_referral": True}}))

    assert sheet["victims"][0]["consents"] == {
        "appointment_contact": False,
        "victim_support_referral": True,
        "use_work_address": False,
    }


def test_every_error_is_reported_at_once() -> None:
    sheet = variant(
        {
            "channel": "sms",
            "narrative": "Agression.",
            "primary_nature": "theft",
            "reported_by.callback_phone": DELETE,
            "location.mode": 8,
            "location.vehicle_id": DELETE,
            "location.stopid": "stop_point:SP_2569",
            "injuries.count": 0,
            "suspects.status": "fled",
            "victims.0.on_duty": DELETE,
            "video.sources": DELETE,
        }
    )
    assert error_fields(sheet) == {
        "channel",
        "narrative",
        "primary_nature",
        "reported_by.callback_phone",
        "location.mode",
        "location.vehicle_id",
        "location.stopid",
        "injuries.count",
        "suspects.flight_direction",
        "victims.0.on_duty",
        "video.sources",
    }


# Regressions: several errors on one object, anchors, overseas numbers.


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {**OVER_NOWHERE, "location.route_id": DELETE},
            {"location", "location.route_id"},
            id="on-board-unroutable-without-route_id",
        ),
        pytest.param(
            {**OVER_NOWHERE, "location.next_stop_id": "stop_point:SP_1336"},
            {"location.previous_stop_id"},
            id="only-next_stop_id",
        ),
    ],
)
def test_several_errors_on_the_location_are_all_reported(
    changes: dict[str, Any], expected: set[str]
) -> None:
    assert error_fields(variant(changes)) == expected


def test_insee_code_with_trailing_newline_is_rejected() -> None:
    assert error_fields(variant({"location.insee_code": "31555\n"})) == {"location.insee_code"}


def test_overseas_national_phone_is_accepted() -> None:
    sheet = load(variant({"reported_by.callback_phone": "0692 12 34 56"}))
    assert sheet["reported_by"]["callback_phone"] == "+262692123456"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"video.sources": ["drone"]}, {"video.sources.0"}, id="bad-video-source"),
        pytest.param(
            {"location.insee_code": "2a004"}, {"location.insee_code"}, id="bad-only-insee"
        ),
        pytest.param(
            {"reported_by.callback_phone": "12345"},
            {"reported_by.callback_phone"},
            id="bad-callback-phone-in-progress",
        ),
        pytest.param(
            {"victims.0.contact": {"name": "Agent Fictif", "phone": "not a phone"}},
            {"victims.0.contact.phone"},
            id="bad-contact-phone",
        ),
    ],
)
def test_a_field_sent_with_a_bad_value_is_reported_once(
    changes: dict[str, Any], expected: set[str]
) -> None:
    assert error_fields(variant(changes)) == expected


def test_six_years_is_counted_in_calendar_years() -> None:
    exactly = variant({"state": "over", "occurred_at": "2020-03-14T18:30:00+01:00"})
    one_day_more = variant({"state": "over", "occurred_at": "2020-03-13T18:30:00+01:00"})
    assert "occurred_at" not in error_fields(exactly)
    assert "occurred_at" in error_fields(one_day_more)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("narrative", " " * 30),
        ("emergency_services_called", "yes"),
        ("emergency_services_called", 1),
        ("location.coordinates.lat", "43.58"),
        ("victims.0.on_duty", "true"),
    ],
)
def test_blank_text_and_loose_types_are_rejected(path: str, value: Any) -> None:
    assert error_fields(variant({path: value})) == {path}
