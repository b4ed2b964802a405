"""Taking an incident, on SQLite and PostgreSQL: one desk holds it, another desk is
refused (take and status changes) with the holder named, the holder releases it, a
supervisor on the console reassigns it; every change is on the feed and in the audit
log, and the time to take is in the metrics by priority."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.access.tokens import create_token
from intake_service.models import AuditEntry, Incident, OutboxEvent
from intake_service.platform.db import Database
from intake_service.territory import zones
from tests.conftest import Clock
from tests.factories import a_sheet, create_tokens

PROBLEM = "application/problem+json"
PASSWORD = "mot-de-passe-de-test"


@pytest.fixture
def desks(app: Any, db: Database, clock: Clock) -> dict[str, Any]:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(
            session, [("31555", "ddsp-31", "DIPN 31"), ("83137", "ddsp-83", "DIPN 83")]
        )
        for name, scope in (("desk_1", "ddsp-31"), ("desk_2", "ddsp-31"), ("ddsp_83", "ddsp-83")):
            secret = create_token(session, "command_centre", scope, name, now=clock.now).secret
            headers[name] = {"Authorization": f"Bearer {secret}"}
    sheet = a_sheet("PRISE-1")
    sheet["location"]["insee_code"] = "31555"
    created = app.test_client().post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert created.status_code == 201
    return {"headers": headers, "id": created.get_json()["id"]}


def _post(app: Any, desks: dict[str, Any], who: str, path: str, **body: Any) -> Any:
    return app.test_client().post(
        f"/api/v1/incidents/{desks['id']}/{path}",
        json=body or None,
        headers=desks["headers"][who],
    )


def test_one_desk_takes_the_other_is_refused_until_released(
    app: Any, desks: dict[str, Any], db: Database, clock: Clock
) -> None:
    taken = _post(app, desks, "desk_1", "take")
    assert taken.status_code == 200
    assert taken.get_json()["holder"]["person"] == "desk_1"
    assert _post(app, desks, "desk_1", "take").status_code == 200  # again: nothing changes

    clock.advance(seconds=5)
    for path, body in (("take", {}), ("status", {"status": "acknowledged"}), ("release", {})):
        refused = _post(app, desks, "desk_2", path, **body)
        assert refused.status_code == 409, path
        assert refused.mimetype == PROBLEM
        problem = refused.get_json()
        assert problem["type"].endswith("held-by-another")
        assert problem["holder"]["person"] == "desk_1"
        assert problem["errors"] == [{"field": "held_by", "message": problem["detail"]}]
        assert "pris par desk_1" in problem["detail"]

    assert _post(app, desks, "desk_1", "status", status="acknowledged").status_code == 200
    released = _post(app, desks, "desk_1", "release")
    assert released.get_json()["holder"] is None
    assert _post(app, desks, "desk_2", "take").status_code == 200
    dispatched = _post(app, desks, "desk_2", "status", status="dispatched")
    assert dispatched.status_code == 200

    with db.reading() as session:
        events = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.event_type.in_(("incident.taken", "incident.released")))
            .order_by(OutboxEvent.position)
        ).all()
        audited = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.action.in_(("incident.take", "incident.release"))
            )
        ).all()
    assert [e.event_type for e in events] == [
        "incident.taken",
        "incident.released",
        "incident.taken",
    ]
    assert [e.envelope["payload"]["holder"] for e in events][1] is None
    assert events[2].envelope["payload"]["holder"]["person"] == "desk_2"
    assert events[0].service_code == "ddsp-31"
    assert sorted(audited) == ["incident.release", "incident.take", "incident.take"]

    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'intake_time_to_take_seconds_count{priority="P1"}' in metrics
    assert 'intake_time_to_dispatch_seconds_count{priority="P1"}' in metrics


def test_outside_the_service_404_and_other_roles_403(app: Any, desks: dict[str, Any]) -> None:
    assert _post(app, desks, "ddsp_83", "take").status_code == 404
    assert _post(app, desks, "operator", "take").status_code == 403
    assert _post(app, desks, "gpo_referent", "release").status_code == 403


def test_a_closed_incident_is_taken_by_nobody(app: Any, desks: dict[str, Any]) -> None:
    closed = _post(app, desks, "desk_1", "status", status="rejected", cause="Doublon")
    assert closed.status_code == 200
    refused = _post(app, desks, "desk_1", "take")
    assert refused.status_code == 409
    assert refused.get_json()["errors"][0]["field"] == "status"


def _signed_in(app: Any, db: Database, clock: Clock, email: str, supervisor: bool) -> FlaskClient:
    with db.transaction() as session:
        add_user(
            session,
            email,
            PASSWORD,
            "command_centre",
            "ddsp-31",
            now=clock.now,
            supervisor=supervisor,
        )
    client: FlaskClient = app.test_client()
    assert client.post("/connexion", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def test_a_supervisor_reassigns_on_the_console(
    app: Any, desks: dict[str, Any], db: Database, clock: Clock
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    first = _signed_in(app, db, clock, "cic1@ddsp31.test", supervisor=False)
    second = _signed_in(app, db, clock, "cic2@ddsp31.test", supervisor=False)
    chief = _signed_in(app, db, clock, "chef@ddsp31.test", supervisor=True)
    page = f"/console/incidents/{desks['id']}"
    hold = f"{page}/prise"

    assert first.post(hold, data={"prise": "take"}).status_code == 303
    seen = second.get(page).get_data(as_text=True)
    assert "Pris par cic1@ddsp31.test à" in seen
    assert "Je prends" not in seen
    assert 'value="acknowledged"' not in seen  # no action form for the other desk
    refused = second.post(hold, data={"prise": "take"})
    assert refused.status_code == 409
    assert "Incident pris par cic1@ddsp31.test" in refused.get_data(as_text=True)
    # A desk that is not a supervisor cannot reassign.
    assert second.post(hold, data={"prise": "reassign", "a": "cic2@ddsp31.test"}).status_code == 403

    chief_page = chief.get(page).get_data(as_text=True)
    assert '<option value="cic2@ddsp31.test">' in chief_page
    for wrong in ("nobody@ddsp31.test", "cic2@ddsp31.test\x00", "cic2\x07@ddsp31.test"):
        unknown = chief.post(hold, data={"prise": "reassign", "a": wrong})
        assert unknown.status_code == 422, wrong
        assert "Aucun opérateur actif" in unknown.get_data(as_text=True)
    assert chief.post(hold, data={"prise": "reassign", "a": "cic2@ddsp31.test"}).status_code == 303
    with db.reading() as session:
        incident = session.get(Incident, desks["id"])
        assert incident is not None
        assert incident.held_by is not None
        assert incident.held_by.endswith("(cic2@ddsp31.test)")
    acted = second.post(f"{page}/action", data={"action": "acknowledged"})
    assert acted.status_code == 302
    assert first.post(f"{page}/action", data={"action": "dispatched"}).status_code == 409
