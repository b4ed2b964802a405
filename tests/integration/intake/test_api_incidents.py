"""The intake API end to end over HTTP, on SQLite and on real PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from intake_service.models import Incident, IncidentVersion, OutboxEvent
from tests.factories import a_sheet, create_tokens

PROBLEM = "application/problem+json"


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    return create_tokens(db, clock.now)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def post_sheet(client: Any, headers: dict[str, str], sheet: Any, **extra: Any) -> Any:
    return client.post("/api/v1/incidents", json=sheet, headers={**headers, **extra})


def count(db: Any, model: Any) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_submit_answers_201_with_location_priority_and_stored_sheet(client, headers, db):
    response = post_sheet(client, headers["operator"], a_sheet())
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/incidents/{body['id']}"
    assert body["status"] == "received"
    assert body["priority"] == "P1"
    assert body["priority_reason"] == "in_progress_with_danger"
    assert body["received_at"] == "2026-03-14T17:30:00+00:00"
    assert body["version"] == 1
    assert body["operator"] == "tisseo"
    # The sheet as stored: phones in E.164, times in UTC.
    assert body["sheet"]["reported_by"]["callback_phone"] == "+33561000017"
    assert body["sheet"]["victims"][0]["contact"]["phone"] == "+33612345678"
    assert body["sheet"]["occurred_at"] == "2026-03-14T17:24:00+00:00"
    assert [change["status"] for change in body["status_history"]] == ["received"]


def test_accepted_sheet_is_stored_with_its_version_and_outbox_event(client, headers, db):
    body = post_sheet(client, headers["operator"], a_sheet()).get_json()
    with db.transaction() as session:
        event = session.scalars(select(OutboxEvent)).one()
        version = session.scalars(select(IncidentVersion)).one()
    assert event.event_type == "incident.submitted"
    assert event.incident_id == body["id"]
    assert event.sent_at is None
    assert event.envelope["type"] == "incident.submitted"
    assert event.envelope["version"] == 1
    assert event.envelope["payload"]["incident"]["id"] == body["id"]
    assert version.version == 1
    assert version.sheet == body["sheet"]


def test_the_201_body_is_the_incident_as_read_back_and_as_the_feed_carries_it(client, headers, db):
    sheet = a_sheet()
    sheet["victims"][0]["contact"]["email"] = "agent.fictif@example.org"
    created = post_sheet(client, headers["operator"], sheet)
    read_back = client.get(created.headers["Location"], headers=headers["operator"])
    assert created.get_json() == read_back.get_json()
    with db.transaction() as session:
        event = session.scalars(select(OutboxEvent)).one()
    assert event.envelope["payload"]["incident"] == created.get_json()


def test_warnings_are_returned_without_refusing_the_sheet(client, headers):
    sheet = a_sheet(natures=["weapon"], primary_nature="weapon")
    response = post_sheet(client, headers["operator"], sheet)
    assert response.status_code == 201
    # No zone table here: the gendarmerie of 31 is a guess, and says so.
    assert [w["code"] for w in response.get_json()["warnings"]] == [
        "weapon_nature_without_weapon",
        "routing_assumed",
    ]


def test_invalid_sheet_lists_every_offending_field(client, headers, db):
    sheet = a_sheet()
    sheet["location"]["coordinates"]["lat"] = "north"
    sheet["narative"] = "typo"
    del sheet["reported_by"]["callback_phone"]
    response = post_sheet(client, headers["operator"], sheet)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert {"type", "title", "status", "detail", "errors"} <= body.keys()
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"location.coordinates.lat", "narative", "reported_by.callback_phone"}
    assert count(db, Incident) == 0


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b'{"operator_reference": ', "application/json", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        (b"operator_reference=x", "application/x-www-form-urlencoded", 415),
        (b"{}", "text/plain", 415),
        (b"[]", "application/json", 422),
        (b'"a sheet"', "application/json", 422),
    ],
)
def test_unreadable_bodies_get_a_problem_not_a_500(client, headers, data, content_type, status):
    response = client.post(
        "/api/v1/incidents", data=data, content_type=content_type, headers=headers["operator"]
    )
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    assert response.get_json()["status"] == status


def test_body_over_the_limit_answers_413(client, headers):
    sheet = a_sheet(narrative="x" * (300 * 1024))
    response = post_sheet(client, headers["operator"], sheet)
    assert response.status_code == 413
    assert response.mimetype == PROBLEM


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "bearer " + "x" * 500],
)
def test_missing_or_bad_token_answers_401(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = post_sheet(client, headers, a_sheet())
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "role", ["command_centre", "gpo_referent", "gpo_partner", "station_officer", "admin"]
)
def test_other_roles_may_not_submit(client, headers, role):
    response = post_sheet(client, headers[role], a_sheet())
    assert response.status_code == 403
    assert response.mimetype == PROBLEM


def test_revoked_token_answers_401(client, headers, db, clock):
    from intake_service.access.tokens import list_tokens, revoke_token

    with db.transaction() as session:
        token_id = next(t.id for t in list_tokens(session) if t.label == "test operator")
        revoke_token(session, token_id, now=clock.now)
    assert post_sheet(client, headers["operator"], a_sheet()).status_code == 401


def test_retry_with_idempotency_key_returns_the_first_answer(client, headers, db, clock):
    key = {"Idempotency-Key": "c1f0a8e2-retry"}
    first = post_sheet(client, headers["operator"], a_sheet(), **key)
    # An hour later the in-progress sheet would no longer pass the time bounds:
    # the retry must still get the first answer.
    clock.advance(hours=1)
    second = post_sheet(client, headers["operator"], a_sheet(), **key)
    assert first.status_code == second.status_code == 201
    assert second.get_json()["id"] == first.get_json()["id"]
    assert second.headers["Location"] == first.headers["Location"]
    assert count(db, Incident) == 1
    assert count(db, OutboxEvent) == 1


def test_same_key_with_another_body_answers_422(client, headers, db):
    key = {"Idempotency-Key": "k-1"}
    assert post_sheet(client, headers["operator"], a_sheet(), **key).status_code == 201
    response = post_sheet(client, headers["operator"], a_sheet(witnesses_count=7), **key)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert count(db, Incident) == 1


def test_idempotency_keys_belong_to_one_operator(client, headers, db):
    key = {"Idempotency-Key": "shared-key"}
    first = post_sheet(client, headers["operator"], a_sheet(), **key)
    second = post_sheet(client, headers["other_operator"], a_sheet(), **key)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]


def test_same_reference_without_key_answers_409_with_the_existing_location(client, headers, db):
    first = post_sheet(client, headers["operator"], a_sheet())
    second = post_sheet(client, headers["operator"], a_sheet(witnesses_count=5))
    assert second.status_code == 409
    assert second.mimetype == PROBLEM
    assert second.headers["Location"] == first.headers["Location"]
    assert second.get_json()["location"] == first.headers["Location"]
    assert count(db, Incident) == 1


def test_same_reference_with_a_new_key_answers_409(client, headers):
    post_sheet(client, headers["operator"], a_sheet(), **{"Idempotency-Key": "a"})
    response = post_sheet(client, headers["operator"], a_sheet(), **{"Idempotency-Key": "b"})
    assert response.status_code == 409


def test_read_own_incident_and_404_for_another_operators(client, headers):
    created = post_sheet(client, headers["operator"], a_sheet()).get_json()
    own = client.get(f"/api/v1/incidents/{created['id']}", headers=headers["operator"])
    assert own.status_code == 200
    assert own.get_json()["sheet"] == created["sheet"]
    foreign = client.get(f"/api/v1/incidents/{created['id']}", headers=headers["other_operator"])
    missing = client.get(
        "/api/v1/incidents/00000000-0000-4000-8000-000000000000", headers=headers["operator"]
    )
    garbage = client.get("/api/v1/incidents/not-a-uuid", headers=headers["operator"])
    for response in (foreign, missing, garbage):
        assert response.status_code == 404
        assert response.mimetype == PROBLEM
    assert foreign.get_json() == missing.get_json()


def test_list_own_incidents_with_filters_and_cursor_pagination(client, headers, clock):
    ids = []
    for index in range(5):
        clock.advance(seconds=10)
        state = {"state": "over"} if index % 2 else {}
        sheet = a_sheet(f"REF-{index}", **state)
        ids.append(post_sheet(client, headers["operator"], sheet).get_json()["id"])
    post_sheet(client, headers["other_operator"], a_sheet("MISTRAL-1"))

    seen: list[str] = []
    url = "/api/v1/incidents?limit=2"
    while True:
        page = client.get(url, headers=headers["operator"]).get_json()
        seen.extend(item["id"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/incidents?limit=2&cursor={page['next_cursor']}"
    assert seen == list(reversed(ids))

    p1 = client.get("/api/v1/incidents?priority=P1", headers=headers["operator"]).get_json()
    assert {item["id"] for item in p1["items"]} == {ids[0], ids[2], ids[4]}
    window = client.get(
        "/api/v1/incidents?received_from=2026-03-14T17:30:20Z&received_to=2026-03-14T17:30:40Z",
        headers=headers["operator"],
    ).get_json()
    assert [item["id"] for item in window["items"]] == [ids[2], ids[1]]
    withdrawn = client.get("/api/v1/incidents?status=withdrawn", headers=headers["operator"])
    assert withdrawn.get_json()["items"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=bogus", "cursor"),
        ("limit=0", "limit"),
        ("priority=P9", "priority.0"),
        ("colour=red", "colour"),
    ],
)
def test_bad_list_parameters_answer_422_naming_them(client, headers, query, field):
    response = client.get(f"/api/v1/incidents?{query}", headers=headers["operator"])
    assert response.status_code == 422
    assert field in {error["field"] for error in response.get_json()["errors"]}


def test_amendment_keeps_versions_and_recomputes_priority(client, headers, clock):
    created = post_sheet(client, headers["operator"], a_sheet()).get_json()
    clock.advance(minutes=20)
    patch = {
        "state": "over",
        "suspects": {"status": "held_by_staff"},
        "injuries": {"count": 1, "severity": "hospitalised"},
    }
    response = client.post(
        f"/api/v1/incidents/{created['id']}/amendments", json=patch, headers=headers["operator"]
    )
    assert response.status_code == 200
    amended = response.get_json()
    assert amended["version"] == 2
    assert amended["priority"] == "P1"
    assert amended["priority_reason"] == "suspects_held_by_staff"
    assert amended["sheet"]["suspects"]["description"] == "Veste rouge."  # merged, not replaced

    versions = client.get(
        f"/api/v1/incidents/{created['id']}/versions", headers=headers["operator"]
    ).get_json()["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["sheet"] == created["sheet"]
    assert versions[1]["changed_paths"] == ["injuries.severity", "state", "suspects.status"]

    lowered = client.post(
        f"/api/v1/incidents/{created['id']}/amendments",
        json={
            "suspects": {"status": "unknown"},
            "injuries": {"count": 0, "severity": "none"},
            "victims": [],
            "video": {"exists": "no", "sources": None, "erased_after": None},
        },
        headers=headers["operator"],
    ).get_json()
    assert lowered["version"] == 3
    assert lowered["priority"] == "P4"


def test_invalid_amendment_names_fields_and_keeps_the_sheet(client, headers):
    created = post_sheet(client, headers["operator"], a_sheet()).get_json()
    url = f"/api/v1/incidents/{created['id']}/amendments"
    bad = client.post(url, json={"injuries": {"count": 0}}, headers=headers["operator"])
    assert bad.status_code == 422
    assert [e["field"] for e in bad.get_json()["errors"]] == ["injuries.count"]
    unknown = client.post(url, json={"priority": "P4"}, headers=headers["operator"])
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.get_json()["errors"]] == ["priority"]
    reference = client.post(url, json={"operator_reference": "X"}, headers=headers["operator"])
    assert reference.status_code == 422
    current = client.get(f"/api/v1/incidents/{created['id']}", headers=headers["operator"])
    assert current.get_json()["version"] == 1


def test_incident_etag_and_if_match_on_amendments_and_withdrawal(client, headers):
    created = post_sheet(client, headers["operator"], a_sheet())
    assert created.headers["ETag"] == '"1"'
    location = created.headers["Location"]
    read = client.get(location, headers=headers["operator"])
    assert read.headers["ETag"] == '"1"'
    url = f"{location}/amendments"
    with_tag = {**headers["operator"], "If-Match": '"1"'}
    done = client.post(url, json={"state": "over"}, headers=with_tag)
    assert (done.status_code, done.headers["ETag"]) == (200, '"2"')
    stale = client.post(url, json={"narrative": "Autre précision."}, headers=with_tag)
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    assert stale.get_json()["current_version"] == 2
    assert [e["field"] for e in stale.get_json()["errors"]] == ["If-Match"]
    for header in ('W/"2"', '"1", "3"'):  # weak never matches; neither tag is current
        refused = client.post(
            url, json={"narrative": "x"}, headers={**headers["operator"], "If-Match": header}
        )
        assert refused.status_code == 412, header
    malformed = client.post(
        url, json={"narrative": "x"}, headers={**headers["operator"], "If-Match": "2"}
    )
    assert malformed.status_code == 400
    assert [e["field"] for e in malformed.get_json()["errors"]] == ["If-Match"]
    # Either of two tags, or any version, and no If-Match at all (optional here) go through.
    for n, header in enumerate(('"1", "2"', "*")):
        assert (
            client.post(
                url,
                json={"narrative": f"Précision numéro {n + 3} du conducteur."},
                headers={**headers["operator"], "If-Match": header},
            ).status_code
            == 200
        )
    assert (
        client.post(
            url,
            json={"narrative": "Sans étiquette, une précision de plus du conducteur."},
            headers=headers["operator"],
        ).status_code
        == 200
    )
    withdrawal = f"{location}/withdrawal"
    assert (
        client.post(
            withdrawal, json={}, headers={**headers["operator"], "If-Match": '"2"'}
        ).status_code
        == 412
    )
    assert client.get(location, headers=headers["operator"]).get_json()["status"] != "withdrawn"
    gone = client.post(withdrawal, json={}, headers={**headers["operator"], "If-Match": '"5"'})
    assert gone.status_code == 200


def test_amendment_of_another_operators_incident_is_404(client, headers):
    created = post_sheet(client, headers["operator"], a_sheet()).get_json()
    response = client.post(
        f"/api/v1/incidents/{created['id']}/amendments",
        json={"state": "over"},
        headers=headers["other_operator"],
    )
    assert response.status_code == 404


def test_withdrawal_until_acknowledged_then_409(client, headers, db, clock):
    first = post_sheet(client, headers["operator"], a_sheet("W-1")).get_json()
    response = client.post(
        f"/api/v1/incidents/{first['id']}/withdrawal",
        json={"reason": "Envoyée par erreur"},
        headers=headers["operator"],
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "withdrawn"
    assert body["status_history"][-1]["detail"] == {"reason": "Envoyée par erreur"}
    again = client.post(
        f"/api/v1/incidents/{first['id']}/withdrawal", json={}, headers=headers["operator"]
    )
    assert again.status_code == 409

    second = post_sheet(client, headers["operator"], a_sheet("W-2")).get_json()
    with db.transaction() as session:
        incident = session.get(Incident, second["id"])
        incident.status = "acknowledged"
    refused = client.post(
        f"/api/v1/incidents/{second['id']}/withdrawal", json={}, headers=headers["operator"]
    )
    assert refused.status_code == 409
    assert "amended" in refused.get_json()["detail"]
    with db.transaction() as session:
        events = [
            e.event_type
            for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.position))
        ]
    assert events == ["incident.submitted", "incident.withdrawn", "incident.submitted"]


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "broker": "ok"}


def test_openapi_document_and_offline_docs(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert "/api/v1/incidents" in spec["paths"]
    assert "Sheet" in spec["components"]["schemas"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.get_data()) > 100_000
    asset.close()


def test_unknown_api_route_is_a_problem(client, headers):
    response = client.get("/api/v1/nothing", headers=headers["operator"])
    assert response.status_code == 404
    assert response.mimetype == PROBLEM
    assert json.loads(response.get_data())["status"] == 404


def test_crafted_cursors_answer_422(client, headers):
    import base64

    for payload in (b'["2026-03-14T17:30:00+00:00", 123]', b"[1, 2]", b'{"a": 1}', b'["x"]'):
        cursor = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        response = client.get(f"/api/v1/incidents?cursor={cursor}", headers=headers["operator"])
        assert response.status_code == 422, payload


def test_withdrawal_without_a_body(client, headers):
    created = post_sheet(client, headers["operator"], a_sheet()).get_json()
    response = client.post(
        f"/api/v1/incidents/{created['id']}/withdrawal", headers=headers["operator"]
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"
