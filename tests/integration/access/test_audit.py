"""The audit log: reads of personal data, changes, sign-ins, tokens, exports; append-only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from intake_service.access import accounts
from intake_service.models import AuditEntry
from intake_service.territory import zones
from tests.factories import a_sheet, create_tokens


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "ddsp-31", "DIPN 31")])
    return headers


def entries(db: Any, action: str | None = None) -> list[AuditEntry]:
    with db.transaction() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.scalars(query))


def submit(client: Any, headers: dict[str, str]) -> str:
    sheet = a_sheet()
    sheet["location"]["insee_code"] = "31555"
    response = client.post(
        "/api/v1/incidents", json=sheet, headers={**headers, "X-Request-ID": "req-1"}
    )
    assert response.status_code == 201
    return str(response.get_json()["id"])


def test_reads_and_changes_are_recorded_with_who_and_from_where(
    app: Any, db: Any, headers: Any
) -> None:
    client = app.test_client()
    incident_id = submit(client, headers["operator"])
    client.get(f"/api/v1/incidents/{incident_id}", headers=headers["command_centre"])
    client.get(f"/api/v1/incidents/{incident_id}/versions", headers=headers["operator"])
    client.post(
        f"/api/v1/incidents/{incident_id}/status",
        json={"status": "acknowledged"},
        headers=headers["command_centre"],
    )
    actions = [
        (e.action, e.role, e.resource_id) for e in entries(db) if e.resource_type == "incident"
    ]
    assert actions == [
        ("incident.submit", "operator", incident_id),
        ("incident.read", "command_centre", incident_id),
        ("incident.versions.read", "operator", incident_id),
        ("incident.acknowledged", "command_centre", incident_id),
    ]
    submitted = entries(db, "incident.submit")[0]
    assert submitted.request_id == "req-1"
    assert submitted.address == "127.0.0.1"
    assert submitted.actor.startswith("token:")


def test_tokens_and_sign_ins_are_recorded(db: Any, clock: Any, headers: Any) -> None:
    assert len(entries(db, "token.create")) == len(headers)
    with db.transaction() as session:
        accounts.add_user(
            session,
            "agent@tisseo.test",
            "un-mot-de-passe-long",
            "operator",
            "tisseo",
            now=clock.now,
        )
    with db.transaction() as session:
        accounts.sign_in(session, "agent@tisseo.test", "wrong", address="192.0.2.1", now=clock.now)
    with db.transaction() as session:
        accounts.sign_in(
            session, "agent@tisseo.test", "un-mot-de-passe-long", address="192.0.2.1", now=clock.now
        )
    assert [e.action for e in entries(db) if e.action.startswith("sign_in")] == [
        "sign_in.bad_credentials",
        "sign_in",
    ]
    assert entries(db, "user.create")[0].detail == {"role": "operator", "scope": "tisseo"}


def test_the_admin_searches_and_exports_without_seeing_personal_data(
    app: Any, db: Any, headers: Any
) -> None:
    client = app.test_client()
    incident_id = submit(client, headers["operator"])
    client.get(f"/api/v1/incidents/{incident_id}", headers=headers["operator"])
    found = client.get("/api/v1/audit?action=incident.read", headers=headers["admin"])
    assert found.status_code == 200
    assert [item["resource_id"] for item in found.get_json()["items"]] == [incident_id]
    export = client.get("/api/v1/audit/export", headers=headers["admin"])
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    csv_text = export.get_data(as_text=True)
    assert incident_id in csv_text
    for personal in ("Agent Fictif", "+33612345678", "Veste rouge", "refusant de valider"):
        assert personal not in csv_text
    assert entries(db, "audit.export")[0].detail == {"rows": len(csv_text.strip().splitlines()) - 1}
    for role in ("operator", "command_centre", "gpo_referent"):
        assert client.get("/api/v1/audit", headers=headers[role]).status_code == 403


def test_the_database_refuses_to_rewrite_the_log(db: Any, headers: Any, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("the append-only trigger is PostgreSQL's (SQLite has no roles to protect it)")
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
            session.execute(text(statement))
    assert len(entries(db)) >= len(headers)
