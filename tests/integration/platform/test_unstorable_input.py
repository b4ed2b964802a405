"""The probe's inputs that answered 500 on PostgreSQL (issue 17): a NUL or a lone
surrogate in a body, a query string, a path or a form; an instant past year 9999 in UTC;
a header split in the sign-in's return address; duplicate keys, UTF-16 and odd JSON
media types. Each is refused at the boundary, with the field named, on both backends.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from intake_service.access.accounts import add_user
from intake_service.gpo import gpos
from intake_service.territory import zones
from tests.factories import a_sheet, create_tokens, submit_in_toulouse

PROBLEM = "application/problem+json"
NUL = "abc\u0000def"
SURROGATE = "abc\ud800def"


@pytest.fixture
def setting(app: Any, db: Any, clock: Any) -> tuple[Any, dict[str, dict[str, str]]]:
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests (tests/e2e)
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "ddsp-31", "DIPN 31")])
        gpos.add_gpo(
            session, "gpo-toulouse", "GPO Toulouse", ["ddsp-31"], ["tisseo"], False, clock.now
        )
        add_user(
            session,
            "agent@tisseo.test",
            "mot-de-passe-de-test",
            "operator",
            "tisseo",
            now=clock.now,
        )
    return app.test_client(), headers


def raw_json(document: Any) -> bytes:
    # ensure_ascii writes a lone surrogate as the escape "\ud800", as a client would.
    return json.dumps(document, ensure_ascii=True).encode()


def assert_refused(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    named = [error["field"] for error in response.get_json().get("errors", [])]
    assert field in named, named


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("narrative", lambda sheet, bad: sheet.update(narrative=bad)),
        ("operator_reference", lambda sheet, bad: sheet.update(operator_reference=bad)),
        ("reported_by.name", lambda sheet, bad: sheet["reported_by"].update(name=bad)),
        (
            "victims.0.contact.name",
            lambda sheet, bad: sheet["victims"][0]["contact"].update(name=bad),
        ),
    ],
)
def test_a_sheet_with_unstorable_text_is_refused_naming_the_field(
    setting: Any, bad: str, field: str, change: Any
) -> None:
    client, headers = setting
    sheet = a_sheet("TIS-BAD")
    change(sheet, bad)
    response = client.post(
        "/api/v1/incidents",
        data=raw_json(sheet),
        content_type="application/json",
        headers=headers["operator"],
    )
    assert_refused(response, 422, field)


def test_the_idempotency_hash_never_sees_a_lone_surrogate(setting: Any) -> None:
    client, headers = setting
    sheet = a_sheet("TIS-IDEM", narrative=SURROGATE)
    response = client.post(
        "/api/v1/incidents",
        data=raw_json(sheet),
        content_type="application/json",
        headers={**headers["operator"], "Idempotency-Key": "k-1"},
    )
    assert_refused(response, 422, "narrative")


def test_an_amendment_and_a_command_centre_comment_with_a_nul_are_refused(setting: Any) -> None:
    client, headers = setting
    incident_id = submit_in_toulouse(client, headers)
    amended = client.post(
        f"/api/v1/incidents/{incident_id}/amendments",
        data=raw_json({"narrative": NUL}),
        content_type="application/json",
        headers=headers["operator"],
    )
    assert_refused(amended, 422, "narrative")
    status = client.post(
        f"/api/v1/incidents/{incident_id}/status",
        data=raw_json({"status": "rejected", "reason": SURROGATE}),
        content_type="application/json",
        headers=headers["command_centre"],
    )
    assert_refused(status, 422, "reason")


def test_a_problem_title_with_a_nul_is_refused(setting: Any) -> None:
    client, headers = setting
    response = client.post(
        "/api/v1/gpos/gpo-toulouse/problems",
        data=raw_json({"title": NUL, "description": "d", "scope": {"operators": ["tisseo"]}}),
        content_type="application/json",
        headers=headers["gpo_referent"],
    )
    assert_refused(response, 422, "title")


def test_a_nul_in_a_path_is_absent_and_in_a_query_string_refused(setting: Any) -> None:
    client, headers = setting
    in_path = client.get("/api/v1/stations/%00/slots", headers=headers["station_officer"])
    assert_refused(in_path, 404, "path.station_code")  # no station has such a code
    in_query = client.get("/api/v1/incidents?status=%00", headers=headers["operator"])
    assert_refused(in_query, 422, "query.status")


def test_a_page_refuses_a_nul_in_its_query_or_form_naming_it(setting: Any) -> None:
    client, _ = setting
    signed_in = client.post(
        "/connexion", data={"email": "agent@tisseo.test", "password": "mot-de-passe-de-test"}
    )
    assert signed_in.status_code == 302
    stops = client.get("/fiche/arrets?q=%00")
    assert stops.status_code == 400
    assert "« query.q »" in stops.get_data(as_text=True)
    anonymous = client.application.test_client()
    refused = anonymous.post("/connexion", data={"email": "a\x00b@x.x", "password": "x"})
    assert refused.status_code == 400
    assert "« email »" in refused.get_data(as_text=True)


def test_a_return_address_that_would_split_the_header_goes_home(setting: Any) -> None:
    client, _ = setting
    response = client.post(
        "/connexion?suivant=/%0d%0aX-Injected:1",
        data={"email": "agent@tisseo.test", "password": "mot-de-passe-de-test"},
    )
    assert response.status_code == 302
    assert "X-Injected" not in response.headers
    assert response.headers["Location"] == "/"


def test_an_instant_past_the_last_utc_instant_is_refused(setting: Any) -> None:
    client, headers = setting
    sheet = a_sheet("TIS-9999")
    sheet["video"]["erased_after"] = "9999-12-31T23:59:59-23:59"
    response = client.post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert_refused(response, 422, "video.erased_after")


def test_a_key_given_twice_is_refused_not_silently_the_last(setting: Any) -> None:
    client, headers = setting
    body = json.dumps(a_sheet("TIS-DUP"))[:-1] + ', "narrative": "autre récit"}'
    response = client.post(
        "/api/v1/incidents", data=body, content_type="application/json", headers=headers["operator"]
    )
    assert_refused(response, 400, "narrative")


def test_utf16_and_other_json_media_types_are_refused(setting: Any) -> None:
    client, headers = setting
    sheet = json.dumps(a_sheet("TIS-U16"))
    utf16 = client.post(
        "/api/v1/incidents",
        data=sheet.encode("utf-16"),
        content_type="application/json",
        headers=headers["operator"],
    )
    assert utf16.status_code == 400
    assert utf16.mimetype == PROBLEM
    declared = client.post(
        "/api/v1/incidents",
        data=sheet.encode("utf-16"),
        content_type="application/json; charset=utf-16",
        headers=headers["operator"],
    )
    assert declared.status_code == 415
    evil = client.post(
        "/api/v1/incidents",
        data=sheet,
        content_type="application/vnd.evil+json",
        headers=headers["operator"],
    )
    assert evil.status_code == 415
