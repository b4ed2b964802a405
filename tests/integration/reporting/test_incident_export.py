"""The incident export over the API, on SQLite and PostgreSQL: the times and outcome of
each incident as the command centre moved it, the scope (an operator's own sheets, a
command centre's service, never another's), no identity, one audit entry per export,
bad input named, and a streamed query."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import event, select

from intake_service.models import AuditEntry
from intake_service.reporting import incident_export
from intake_service.reporting.rules.incident_columns import COLUMNS
from tests.conftest import Clock
from tests.reporting_data import IDENTITIES, Headers, move, sheet, submit_at, tokens

URL = "/api/v1/incidents/export.csv"
PROBLEM = "application/problem+json"
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def scenario(app: Any, db: Any, clock: Clock) -> tuple[Any, Headers, dict[str, str]]:
    """Six incidents around 10–12 March 2026 (Paris days), as described in each line."""
    headers = tokens(db, clock.now)
    client = app.test_client()
    ids: dict[str, str] = {}
    tisseo, mistral = headers["operator"], headers["other_operator"]
    # A: Toulouse (ddsp-31), acknowledged, dispatched, closed with an arrest.
    ids["A"] = submit_at(
        client,
        clock,
        at("2026-03-10T09:00:00"),
        tisseo,
        sheet("A", at("2026-03-10T08:50:00"), natures=("physical_assault_staff", "theft")),
    )
    cc = headers["command_centre"]
    move(client, clock, at("2026-03-10T09:02:00"), cc, ids["A"], status="acknowledged")
    move(
        client,
        clock,
        at("2026-03-10T09:05:00"),
        cc,
        ids["A"],
        status="dispatched",
        call_sign="TV31",
    )
    move(
        client,
        clock,
        at("2026-03-10T09:40:00"),
        cc,
        ids["A"],
        status="closed",
        outcome="arrest",
        comment="Interpellation par la patrouille",
    )
    # B: 23:30 Paris on 11 March, closed as a false alarm without dispatch.
    ids["B"] = submit_at(
        client, clock, at("2026-03-11T22:30:00"), tisseo, sheet("B", at("2026-03-11T22:00:00"))
    )
    move(client, clock, at("2026-03-11T22:31:00"), cc, ids["B"], status="acknowledged")
    move(
        client,
        clock,
        at("2026-03-11T22:45:00"),
        cc,
        ids["B"],
        status="closed",
        outcome="false_alarm",
        comment="Fausse alerte",
    )
    # C: 00:30 Paris on 13 March: the day after the period.
    ids["C"] = submit_at(
        client, clock, at("2026-03-12T23:30:00"), tisseo, sheet("C", at("2026-03-12T23:00:00"))
    )
    # D: tisseo in Toulon (ddsp-83).
    ids["D"] = submit_at(
        client,
        clock,
        at("2026-03-11T10:00:00"),
        tisseo,
        sheet("D", at("2026-03-11T09:00:00"), insee_code="83137", route_id=None),
    )
    # E: mistral in Toulouse (ddsp-31).
    ids["E"] = submit_at(
        client, clock, at("2026-03-11T11:00:00"), mistral, sheet("E", at("2026-03-11T10:30:00"))
    )
    # F: 23:59 Paris on 9 March: the day before the period.
    ids["F"] = submit_at(
        client, clock, at("2026-03-09T22:59:00"), tisseo, sheet("F", at("2026-03-09T22:00:00"))
    )
    clock.now = at("2026-03-14T17:30:00")
    return client, headers, ids


def export(client: Any, headers: dict[str, str], query: str) -> tuple[Any, list[dict[str, str]]]:
    response = client.get(f"{URL}?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return response, list(reader)


PERIOD = "from=2026-03-10&to=2026-03-12"


def test_operator_exports_its_own_sheets_of_the_period_only(scenario: Any) -> None:
    client, headers, ids = scenario
    response, rows = export(client, headers["operator"], PERIOD)
    assert response.mimetype == "text/csv"
    assert "incidents-tisseo-2026-03-10-2026-03-12.csv" in response.headers["Content-Disposition"]
    # Oldest first; C (13 March, Paris) and F (9 March, Paris) are outside; E is mistral's.
    assert [row["incident_id"] for row in rows] == [ids["A"], ids["D"], ids["B"]]
    assert {row["operator"] for row in rows} == {"tisseo"}
    assert [row["service"] for row in rows] == ["ddsp-31", "ddsp-83", "ddsp-31"]


def test_command_centre_exports_its_service_whoever_sent_the_sheet(scenario: Any) -> None:
    client, headers, ids = scenario
    _, rows = export(client, headers["command_centre"], PERIOD)
    assert [row["incident_id"] for row in rows] == [ids["A"], ids["E"], ids["B"]]
    assert [row["operator"] for row in rows] == ["tisseo", "mistral", "tisseo"]
    _, rows_83 = export(client, headers["command_centre_83"], PERIOD)
    assert [row["incident_id"] for row in rows_83] == [ids["D"]]


def test_the_times_and_outcome_are_the_command_centres_steps(scenario: Any) -> None:
    client, headers, ids = scenario
    _, rows = export(client, headers["command_centre"], PERIOD)
    first, third, second = rows
    assert first == {
        "incident_id": ids["A"],
        "operator_reference": "A",
        "operator": "tisseo",
        "service": "ddsp-31",
        "received_at": "2026-03-10T10:00:00+01:00",
        "acknowledged_at": "2026-03-10T10:02:00+01:00",
        "dispatched_at": "2026-03-10T10:05:00+01:00",
        "closed_at": "2026-03-10T10:40:00+01:00",
        "status": "closed",
        "outcome": "arrest",
        "priority": first["priority"],
        "primary_nature": "physical_assault_staff",
        "natures": "physical_assault_staff|theft",
        "mode": "3",
        "place": "on_board",
        "route_id": "line:142",
        "stop_id": "stop_point:SP_1121",
        "insee_code": "31555",
    }
    assert first["priority"] in ("P3", "P4")
    assert (second["received_at"], second["dispatched_at"], second["closed_at"]) == (
        "2026-03-11T23:30:00+01:00",
        "",
        "2026-03-11T23:45:00+01:00",
    )
    assert (second["status"], second["outcome"]) == ("closed", "false_alarm")
    assert (third["acknowledged_at"], third["closed_at"], third["outcome"]) == ("", "", "")
    assert third["status"] in ("received", "queued")


def test_no_export_holds_an_identity_or_a_narrative(scenario: Any) -> None:
    client, headers, _ = scenario
    for caller in ("operator", "command_centre", "command_centre_83", "other_operator"):
        response = client.get(f"{URL}?{PERIOD}", headers=headers[caller])
        text = response.get_data(as_text=True)
        leaked = [value for value in IDENTITIES if value in text]
        assert leaked == [], f"{caller}'s export shows {leaked}"
        assert "Interpellation" not in text  # the command centre's closing comment


def test_each_export_is_audited_with_its_period_and_row_count(scenario: Any, db: Any) -> None:
    client, headers, _ = scenario
    export(client, headers["operator"], PERIOD)
    export(client, headers["command_centre"], "from=2026-03-11&to=2026-03-11")
    with db.transaction() as session:
        entries = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "incident.export")
                .order_by(AuditEntry.id)
            )
        )
        audited = [(e.role, e.resource_id, e.detail) for e in entries]
    assert audited == [
        (
            "operator",
            "operator:tisseo",
            {
                "format": "csv",
                "scope": "operator:tisseo",
                "from": "2026-03-10",
                "to": "2026-03-12",
                "rows": 3,
            },
        ),
        (
            "command_centre",
            "service:ddsp-31",
            {
                "format": "csv",
                "scope": "service:ddsp-31",
                "from": "2026-03-11",
                "to": "2026-03-11",
                "rows": 2,
            },
        ),
    ]


def test_the_default_period_is_the_last_31_days(scenario: Any) -> None:
    client, headers, ids = scenario
    response, rows = export(client, headers["operator"], "")
    # Today is 14 March 2026: from 12 February to 14 March, every tisseo sheet.
    assert "2026-02-12-2026-03-14" in response.headers["Content-Disposition"]
    assert {row["incident_id"] for row in rows} == {ids[k] for k in "ABCDF"}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("from=2026-03-12&to=2026-03-10", ["from", "to"]),
        ("from=2026-13-01", ["from"]),
        ("from=2026-03-01&to=demain", ["to"]),
        ("from=1999-12-31", ["from"]),
        ("periode=mars", ["periode"]),
    ],
)
def test_bad_input_names_each_field(scenario: Any, query: str, fields: list[str]) -> None:
    client, headers, _ = scenario
    response = client.get(f"{URL}?{query}", headers=headers["operator"])
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert sorted(error["field"] for error in response.get_json()["errors"]) == sorted(fields)


def test_other_roles_may_not_export(scenario: Any) -> None:
    client, headers, _ = scenario
    for caller in ("gpo_referent", "gpo_partner", "station_officer", "admin", "national"):
        response = client.get(URL, headers=headers[caller])
        assert response.status_code == 403, caller
        assert response.mimetype == PROBLEM
    assert client.get(URL).status_code == 401


def test_the_export_is_streamed_chunk_by_chunk(
    scenario: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body is a generator whose first rows leave before the query has been read
    to its end: fails if the rows are loaded with ``.all()`` (or without a streamed
    cursor) before the first is written."""
    client, headers, _ = scenario
    monkeypatch.setattr(incident_export, "CHUNK_ROWS", 1)
    cursors: list[Any] = []
    options: list[dict[str, Any]] = []

    def seen(
        _conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if "incident_status_changes" in statement and "ORDER BY incidents.received_at" in statement:
            cursors.append(cursor)
            options.append(dict(context.execution_options))

    event.listen(db.read_engine, "before_cursor_execute", seen)
    try:
        response = client.get(f"{URL}?{PERIOD}", headers=headers["operator"], buffered=False)
        assert response.is_streamed
        body = iter(response.response)
        header = next(body)
        first = next(body)
        assert (header if isinstance(header, str) else header.decode()).startswith("incident_id,")
        assert len((first if isinstance(first, str) else first.decode()).splitlines()) == 1
        assert len(cursors) == 1, "the export's query has run once, when the first rows left"
        assert options[0].get("yield_per") == 1
        if db.engine.dialect.name == "postgresql":
            # A server-side cursor, of which one row of three has been fetched so far.
            assert type(cursors[0]).__name__ == "ServerCursor"
            assert cursors[0].rownumber == 1
        rest = b"".join(part if isinstance(part, bytes) else part.encode() for part in body)
        assert len(rest.decode().splitlines()) == 2
    finally:
        response.close()
        event.remove(db.read_engine, "before_cursor_execute", seen)


# --- the page ------------------------------------------------------------------------------


def page_client(app: Any, db: Any, clock: Clock, email: str, role: str, scope: str) -> Any:
    from intake_service.access.accounts import add_user

    with db.transaction() as session:
        add_user(session, email, "mot-de-passe-de-test", role, scope, now=clock.now)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    signed = client.post("/connexion", data={"email": email, "password": "mot-de-passe-de-test"})
    assert signed.status_code == 302
    return client


def test_the_page_downloads_the_same_export_and_audits_it(
    app: Any, db: Any, clock: Clock, scenario: Any
) -> None:
    client, headers, _ids = scenario
    page = page_client(app, db, clock, "cic@ddsp31.test", "command_centre", "ddsp-31")
    form = page.get("/exports/incidents")
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    # Today's default period, in the date pickers.
    assert 'id="du" name="du" value="2026-02-12"' in text
    assert 'id="au" name="au" value="2026-03-14"' in text
    downloaded = page.get("/exports/incidents?du=2026-03-10&au=2026-03-12&telecharger=csv")
    assert downloaded.status_code == 200
    assert downloaded.mimetype == "text/csv"
    assert (
        (downloaded.headers["Content-Disposition"])
        == "attachment; filename=incidents-ddsp-31-2026-03-10-2026-03-12.csv"
    )
    assert downloaded.data == client.get(f"{URL}?{PERIOD}", headers=headers["command_centre"]).data
    with db.transaction() as session:
        actors = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "incident.export")
        ).all()
    assert [actor.endswith("(cic@ddsp31.test)") for actor in actors] == [True, False]


@pytest.mark.parametrize(
    ("query", "fields", "message"),
    [
        ("du=2026-03-12&au=2026-03-10", ["du", "au"], "commence après sa fin"),
        ("du=12/03/2026&au=2026-03-10", ["du"], "Date invalide"),
        ("du=2026-03-01&au=3000-01-01", ["au"], "hors des limites"),
    ],
)
def test_the_page_shows_each_error_under_its_field(
    app: Any, db: Any, clock: Clock, scenario: Any, query: str, fields: list[str], message: str
) -> None:
    page = page_client(app, db, clock, "agent@tisseo.test", "operator", "tisseo")
    refused = page.get(f"/exports/incidents?{query}&telecharger=csv")
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert message in body
    for name in ("du", "au"):
        assert (f'id="{name}-erreur"' in body) == (name in fields)
    with db.transaction() as session:
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "incident.export")).all()
            == []
        )


def test_pages_of_other_roles_are_refused(app: Any, db: Any, clock: Clock, scenario: Any) -> None:
    page = page_client(app, db, clock, "ref@gpo.test", "gpo_referent", "gpo-toulouse")
    assert page.get("/exports/incidents").status_code == 403
    assert (
        page.get("/exports/incidents?du=2026-03-10&au=2026-03-12&telecharger=csv").status_code
        == 403
    )
    assert page.get("/statistiques/mensuelles").status_code == 403
    assert app.test_client().get("/exports/incidents").status_code == 302


def test_the_openapi_document_gives_each_exports_content_type(app: Any) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    expected = {
        "/api/v1/incidents/export.csv": "text/csv",
        "/api/v1/statistics/monthly/{month}.csv": "text/csv",
        "/api/v1/statistics/monthly/{month}.pdf": "application/pdf",
    }
    for path, content_type in expected.items():
        responses = spec["paths"][path]["get"]["responses"]
        assert list(responses["200"]["content"]) == [content_type], path
        assert list(responses["422"]["content"]) == [PROBLEM], path
    export = spec["paths"]["/api/v1/incidents/export.csv"]["get"]
    assert [(p["name"], p["in"]) for p in export["parameters"]] == [
        ("from", "query"),
        ("to", "query"),
    ]
    assert "X-Export-Rows" in export["responses"]["200"]["headers"]
