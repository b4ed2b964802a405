"""The directory's API: who reads which entity, who keeps it, If-Match, bad input;
on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from intake_service.access.tokens import create_token
from intake_service.models import AuditEntry
from tests.directory_data import REFERENT, add_entity, entity_body, setting

PROBLEM = "application/problem+json"


@pytest.fixture
def headers(app: Any, clock: Any) -> dict[str, dict[str, str]]:
    headers = setting(app, clock.now)
    db = app.extensions["intake.db"]
    with db.transaction() as session:
        partner = create_token(
            session, "gpo_partner", "gpo-toulouse:pm-toulouse", "test partner", now=clock.now
        )
        cic_83 = create_token(session, "command_centre", "ddsp-83", "test ddsp-83", now=clock.now)
    headers["partner_org"] = {"Authorization": f"Bearer {partner.secret}"}
    headers["command_centre_83"] = {"Authorization": f"Bearer {cic_83.secret}"}
    for kind, code in (
        ("operator", "tisseo"),
        ("operator", "mistral"),
        ("police_service", "ddsp-31"),
        ("police_service", "ddsp-83"),
        ("police_station", "csp-toulouse"),
        ("gpo", "gpo-toulouse"),
        ("partner", "gpo-toulouse:pm-toulouse"),
    ):
        add_entity(db, kind, code, clock.now, referents=[dict(REFERENT, name=f"Référent {code}")])
    return headers


def listed(client: Any, headers: dict[str, str]) -> set[tuple[str, str]]:
    response = client.get("/api/v1/directory", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {(item["kind"], item["code"]) for item in response.get_json()["items"]}


def test_each_caller_lists_the_entities_it_works_with(app, headers):
    client = app.test_client()
    assert listed(client, headers["operator"]) == {
        ("operator", "tisseo"),
        ("police_service", "ddsp-31"),
        ("police_station", "csp-toulouse"),
        ("gpo", "gpo-toulouse"),
    }
    # mistral has no incident yet: its own entity only.
    assert listed(client, headers["other_operator"]) == {("operator", "mistral")}
    assert listed(client, headers["command_centre"]) == {
        ("police_service", "ddsp-31"),
        ("operator", "tisseo"),
        ("police_station", "csp-toulouse"),
        ("gpo", "gpo-toulouse"),
    }
    assert listed(client, headers["command_centre_83"]) == {("police_service", "ddsp-83")}
    assert listed(client, headers["station_officer"]) == {
        ("police_station", "csp-toulouse"),
        ("police_service", "ddsp-31"),
        ("operator", "tisseo"),
    }
    assert listed(client, headers["gpo_referent"]) == {
        ("gpo", "gpo-toulouse"),
        ("partner", "gpo-toulouse:pm-toulouse"),
        ("police_service", "ddsp-31"),
        ("operator", "tisseo"),
    }
    assert listed(client, headers["partner_org"]) == {
        ("partner", "gpo-toulouse:pm-toulouse"),
        ("gpo", "gpo-toulouse"),
    }
    assert len(listed(client, headers["admin"])) == 7


def test_the_operator_reads_its_cic_s_referents_and_nothing_outside(app, headers):
    client = app.test_client()
    response = client.get("/api/v1/directory/police_service/ddsp-31", headers=headers["operator"])
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    document = response.get_json()
    assert document["referents"] == [
        {
            "name": "Référent ddsp-31",
            "function": REFERENT["function"],
            "phone": REFERENT["phone"],
            "email": REFERENT["email"],
        }
    ]
    assert document["editable"] is False
    for path in (
        "/api/v1/directory/police_service/ddsp-83",  # exists, not tisseo's to see
        "/api/v1/directory/operator/mistral",
        "/api/v1/directory/police_service/ddsp-99",  # does not exist: the same answer
        "/api/v1/directory/spaceship/x",
    ):
        refused = client.get(path, headers=headers["operator"])
        assert refused.status_code == 404, path
        assert refused.mimetype == PROBLEM
    assert client.get("/api/v1/directory").status_code == 401


def test_an_entity_keeps_its_own_only_and_the_admin_any(app, db, headers):
    client = app.test_client()
    body = entity_body()
    # In sight but not its own: 403; out of sight: 404.
    seen = client.put(
        "/api/v1/directory/police_service/ddsp-31",
        json=body,
        headers={**headers["operator"], "If-Match": '"1"'},
    )
    assert seen.status_code == 403
    unseen = client.put(
        "/api/v1/directory/police_service/ddsp-83",
        json=body,
        headers={**headers["operator"], "If-Match": '"1"'},
    )
    assert unseen.status_code == 404
    own = client.put(
        "/api/v1/directory/police_service/ddsp-31",
        json=body,
        headers={**headers["command_centre"], "If-Match": '"1"'},
    )
    assert own.status_code == 200, own.get_json()
    assert own.headers["ETag"] == '"2"'
    assert own.get_json()["referents"][0]["phone"] == "+33561127777"  # E.164
    admin = client.put(
        "/api/v1/directory/police_service/ddsp-83",
        json=entity_body(name="CIC de la DIPN 83"),
        headers={**headers["admin"], "If-Match": '"1"'},
    )
    assert admin.status_code == 200
    with db.reading() as session:
        changes = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "directory.change")
        ).all()
    assert sorted(entry.resource_id for entry in changes) == [
        "police_service/ddsp-31",
        "police_service/ddsp-83",
    ]
    assert all("referents" in entry.detail["changed"] for entry in changes)
    assert not any(REFERENT["email"] in str(entry.detail) for entry in changes)


def test_a_new_entity_is_created_without_if_match(app, db, headers):
    client = app.test_client()
    with db.transaction() as session:
        from intake_service.models import DirectoryEntity

        session.query(DirectoryEntity).filter_by(kind="operator", code="mistral").delete()
    created = client.put(
        "/api/v1/directory/operator/mistral",
        json=entity_body(name="PC sûreté Mistral"),
        headers=headers["other_operator"],
    )
    assert created.status_code == 201, created.get_json()
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith("/api/v1/directory/operator/mistral")
    # A creation only, when it exists: 412.
    again = client.put(
        "/api/v1/directory/operator/mistral",
        json=entity_body(),
        headers={**headers["other_operator"], "If-None-Match": "*"},
    )
    assert again.status_code == 412
    # The admin describes only what the deployment knows.
    unknown = client.put(
        "/api/v1/directory/operator/nobody", json=entity_body(), headers=headers["admin"]
    )
    assert unknown.status_code == 404


def test_a_replacement_needs_the_current_version(app, headers):
    client = app.test_client()
    url = "/api/v1/directory/operator/tisseo"
    missing = client.put(url, json=entity_body(), headers=headers["operator"])
    assert missing.status_code == 428
    assert missing.mimetype == PROBLEM
    assert missing.get_json()["errors"][0]["field"] == "If-Match"
    assert missing.get_json()["current_version"] == 1
    stale = client.put(url, json=entity_body(), headers={**headers["operator"], "If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.get_json()["current_version"] == 1
    weak = client.put(url, json=entity_body(), headers={**headers["operator"], "If-Match": 'W/"1"'})
    assert weak.status_code == 412  # a weak tag never matches (RFC 9110 §13.1.1)
    garbled = client.put(url, json=entity_body(), headers={**headers["operator"], "If-Match": "1"})
    assert garbled.status_code == 400
    current = client.get(url, headers=headers["operator"]).headers["ETag"]
    done = client.put(
        url, json=entity_body(digest=True), headers={**headers["operator"], "If-Match": current}
    )
    assert done.status_code == 200
    assert done.get_json()["digest"] is True
    assert done.headers["ETag"] == '"2"'
    # The old version is stale now.
    late = client.put(url, json=entity_body(), headers={**headers["operator"], "If-Match": current})
    assert late.status_code == 412
    anything = client.put(url, json=entity_body(), headers={**headers["operator"], "If-Match": "*"})
    assert anything.status_code == 200


def test_bad_input_names_every_field(app, headers):
    client = app.test_client()
    body = entity_body(
        hours="24 h/24\x00",
        notices=["urgent_incident", "everything"],
        mailbox="pas-une-adresse",
        digest="yes",
        referents=[
            {"name": "", "phone": "12", "email": "x@"},
            {"name": "Sans contact", "function": "\ud800"},
        ],
    )
    response = client.put(
        "/api/v1/directory/operator/tisseo",
        json=body,
        headers={**headers["operator"], "If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert fields == {
        "hours",
        "notices.1",
        "mailbox",
        "digest",
        "referents.0.name",
        "referents.0.phone",
        "referents.0.email",
        "referents.1.function",
    }
    unknown = client.put(
        "/api/v1/directory/operator/tisseo",
        json={**entity_body(), "colour": "blue"},
        headers={**headers["operator"], "If-Match": '"1"'},
    )
    assert unknown.status_code == 422
    assert [error["field"] for error in unknown.get_json()["errors"]] == ["colour"]
