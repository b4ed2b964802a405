"""The national and départemental view over the API, on SQLite and PostgreSQL: every
figure of every GPO, département and of the nation checked against what plain Python
computes from the scenario's description (``overview_seed``), not from the database;
the scopes (a département's direction sees its own, 404 elsewhere); named errors;
audited CSV and PDF exports holding no personal data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import statistics
from typing import Any

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from intake_service.models import AuditEntry
from intake_service.platform.clock import PARIS
from intake_service.platform.db import Database
from tests.conftest import Clock
from tests.factories import create_tokens
from tests.integration.overview import overview_seed as scenario
from tests.integration.overview.overview_seed import FIRST, LAST, Seeded

PERIOD = f"from={FIRST.isoformat()}&to={LAST.isoformat()}"
PROBLEM = "application/problem+json"
PERSONAL = ("Agent Fictif", "06 12 34 56 78", "+33612345678", "PC sûreté Tisséo", "Veste rouge",
            "frappé par un voyageur", "agent.fictif@example.org")  # fmt: skip
FAMILY = {
    "physical_assault_staff": "persons",
    "threat_or_insult_staff": "persons",
    "violence_passenger": "persons",
    "projectile": "projectile",
    "vandalism": "property",
    "theft": "property",
}
LANDING = {"not_resolved": "analysis", "closed": "watch"}
WORKING = {"reported", "qualified", "analysis", "action_plan", "in_progress", "assessment"}


@pytest.fixture
def setup(app: Any, db: Database, clock: Clock) -> tuple[FlaskClient, dict[str, Any], Seeded]:
    tokens = create_tokens(db, clock.now)
    seeded = scenario.seed(app, db, clock, tokens)
    return app.test_client(), tokens, seeded


# --- the expectations, from the scenario's description only -------------------------------

SINCE = dt.datetime.combine(FIRST, dt.time(), tzinfo=PARIS)
UNTIL = dt.datetime.combine(LAST + dt.timedelta(days=1), dt.time(), tzinfo=PARIS)
MONTHS = ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]


def in_period(moment: dt.datetime) -> bool:
    return SINCE <= moment < UNTIL


def month(moment: dt.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m")


def gpo_codes(department: str | None) -> list[str]:
    return [g.code for g in scenario.GPOS if department is None or g.department == department]


def expected_problems(codes: list[str]) -> dict[str, Any]:
    chosen = [p for p in scenario.PROBLEMS if p.gpo in codes]
    outcomes = {o: 0 for o in ("resolved", "improved", "not_resolved", "abandoned", "out_of_scope")}
    days = []
    identified_by_month = dict.fromkeys(MONTHS, 0)
    resolved_by_month = dict.fromkeys(MONTHS, 0)
    in_progress = 0
    for problem in chosen:
        if in_period(problem.created):
            identified_by_month[month(problem.created)] += 1
        final = problem.moves[-1][1] if problem.moves else "reported"
        if LANDING.get(final, final) in WORKING:
            in_progress += 1
        for outcome in outcomes:
            if any(to == outcome and in_period(at) for at, to, _ in problem.moves):
                outcomes[outcome] += 1
        resolved = [at for at, to, _ in problem.moves if to == "resolved"]
        if resolved and in_period(resolved[0]):
            days.append((resolved[0] - problem.created) / dt.timedelta(days=1))
            resolved_by_month[month(resolved[0])] += 1
    return {
        "identified": sum(1 for p in chosen if in_period(p.created)),
        "in_progress": in_progress,
        **outcomes,
        "median_days_to_resolve": round(statistics.median(days), 1) if days else None,
        "identified_by_month": identified_by_month,
        "resolved_by_month": resolved_by_month,
    }


def meeting_days(code: str) -> set[dt.date]:
    days = {
        planned.astimezone(PARIS).date()
        for gpo, planned, status in scenario.MEETINGS
        if gpo == code and status == "held"
    }
    days |= {at.astimezone(PARIS).date() for gpo, _, at in scenario.JOURNAL_MEETINGS if gpo == code}
    return days


def held_in_period(code: str) -> set[dt.date]:
    return {day for day in meeting_days(code) if FIRST <= day <= LAST}


def rhythm_kept(code: str) -> bool:
    spec = next(g for g in scenario.GPOS if g.code == code)
    limit = {"fortnightly": 14, "monthly": 31}[spec.rhythm] + 3
    start = max(FIRST, spec.created.astimezone(PARIS).date())
    marks = [start, *sorted(held_in_period(code)), LAST]
    return max((b - a).days for a, b in itertools.pairwise(marks)) <= limit


def active(code: str) -> bool:
    return any(0 <= (LAST - day).days < 60 for day in meeting_days(code))


def covered(code: str) -> set[str]:
    spec = next(g for g in scenario.GPOS if g.code == code)
    service = {"31555": "ddsp-31", "13055": "ddsp-13", "83137": "ddsp-83"}
    operator = {"operator": "tisseo", "other_operator": "mistral"}
    return {
        i.key
        for i in scenario.INCIDENTS
        if in_period(i.occurred)
        and not i.withdrawn
        and (service[i.insee] in spec.services or operator[i.operator] in spec.operators)
    }


def expected_incidents(keys: set[str], seeded: Seeded) -> dict[str, Any]:
    chosen = [i for i in scenario.INCIDENTS if i.key in keys]
    families = ("persons", "property", "projectile", "drugs", "weapons", "fraud", "incivility",
                "other")  # fmt: skip
    by_month = {m: dict.fromkeys(families, 0) for m in MONTHS}
    for i in chosen:
        by_month[month(i.occurred)][FAMILY[i.nature]] += 1
    urgent = sum(1 for i in chosen if seeded.priorities[i.key] in ("P1", "P2"))
    return {
        "count": len(chosen),
        "by_family": {f: sum(1 for i in chosen if FAMILY[i.nature] == f) for f in families},
        "by_month": by_month,
        "staff_victim_incidents": sum(1 for i in chosen if "staff" in i.victims),
        "staff_victims": sum(i.victims.count("staff") for i in chosen),
        "p1_p2": urgent,
        "share_p1_p2": round(urgent / len(chosen), 3) if chosen else None,
    }


def expected_appointments(keys: set[str]) -> dict[str, Any]:
    now = dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC)
    counted = [
        r for r in scenario.REQUESTS if r[0] in keys and in_period(r[2]) and r[4] != "declined"
    ]
    booked = [r for r in counted if r[5] is not None]
    delays = [(r[5] - r[2]) / dt.timedelta(hours=1) for r in booked]
    past = [r for r in booked if r[5] <= now]
    honoured = sum(1 for r in past if r[6] == "honoured")
    missed = sum(1 for r in past if r[6] == "missed")
    return {
        "eligible": len(counted),
        "booked": len(booked),
        "share_booked": round(len(booked) / len(counted), 3) if counted else None,
        "median_delay_hours": round(statistics.median(delays), 1) if delays else None,
        "past": len(past),
        "honoured": honoured,
        "missed": missed,
        "share_honoured": round(honoured / len(past), 3) if past else None,
        "share_missed": round(missed / len(past), 3) if past else None,
    }


def expected_unit(codes: list[str], seeded: Seeded, single: bool) -> dict[str, Any]:
    specs = [g for g in scenario.GPOS if g.code in codes]
    incidents: set[str] = set().union(*(covered(c) for c in codes))
    kept = [rhythm_kept(c) for c in codes]
    last = max((max(held_in_period(c)) for c in codes if held_in_period(c)), default=None)
    return {
        "gpos": {
            "deployed": sum(1 for g in specs if g.status == "deployed"),
            "in_creation": sum(1 for g in specs if g.status == "in_creation"),
            "declared": len(specs),
            "active": sum(1 for c in codes if active(c)),
        },
        "problems": expected_problems(codes),
        "meetings": {
            "held": sum(len(held_in_period(c)) for c in codes),
            "last_on": last.isoformat() if last else None,
            "rhythm_kept": kept[0] if single else None,
            "gpos_rhythm_kept": sum(kept),
            "gpos_rhythm_missed": len(kept) - sum(kept),
        },
        "incidents": expected_incidents(incidents, seeded),
        "appointments": expected_appointments(incidents),
    }


def figures_of(unit: dict[str, Any]) -> dict[str, Any]:
    return {key: unit[key] for key in ("gpos", "problems", "meetings", "incidents", "appointments")}


# --- the figures ----------------------------------------------------------------------------


def test_national_figures_per_department_and_total(setup: Any) -> None:
    client, tokens, seeded = setup
    response = client.get(f"/api/v1/overview?{PERIOD}", headers=tokens["national"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["from"], body["to"], body["level"]) == (FIRST.isoformat(), LAST.isoformat(),
                                                         "national")  # fmt: skip
    assert [row["key"] for row in body["rows"]] == ["13", "31"]
    for row in body["rows"]:
        assert figures_of(row) == expected_unit(gpo_codes(row["key"]), seeded, single=False), row[
            "key"
        ]
    assert figures_of(body["total"]) == expected_unit(gpo_codes(None), seeded, single=False)
    # The scenario is not trivial: each figure the test checks moves.
    total = body["total"]
    assert total["problems"]["identified"] == 8
    assert total["problems"]["not_resolved"] == 1
    assert total["incidents"]["count"] == 6  # t5 before, t6 withdrawn, v1 in no GPO
    assert total["gpos"] == {"deployed": 2, "in_creation": 1, "declared": 3, "active": 2}


def test_department_figures_per_gpo(setup: Any) -> None:
    client, tokens, seeded = setup
    for caller in ("national", "departement"):
        response = client.get(f"/api/v1/overview/departements/31?{PERIOD}", headers=tokens[caller])
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["level"] == "departement"
        assert [row["key"] for row in body["rows"]] == ["gpo-toulouse", "gpo-toulouse-nord"]
        for row in body["rows"]:
            assert figures_of(row) == expected_unit([row["key"]], seeded, single=True), row["key"]
        assert figures_of(body["total"]) == expected_unit(gpo_codes("31"), seeded, single=False)
    rows = {row["key"]: row for row in body["rows"]}
    # Fortnightly with a seven-week gap: not kept; the one in creation kept its month.
    assert rows["gpo-toulouse"]["meetings"]["rhythm_kept"] is False
    assert rows["gpo-toulouse-nord"]["meetings"]["rhythm_kept"] is True
    # Two GPOs cover tisseo: the département counts its incidents once.
    assert body["total"]["incidents"]["count"] == rows["gpo-toulouse"]["incidents"]["count"] == 4
    response = client.get(f"/api/v1/overview/departements/13?{PERIOD}", headers=tokens["national"])
    body = response.get_json()
    assert figures_of(body["rows"][0]) == expected_unit(["gpo-marseille"], seeded, single=True)
    assert body["rows"][0]["gpos"]["active"] == 0  # last met on 2 January


def test_departement_sees_its_own_only(setup: Any) -> None:
    client, tokens, seeded = setup
    response = client.get(f"/api/v1/overview?{PERIOD}", headers=tokens["departement"])
    assert response.status_code == 200
    body = response.get_json()
    assert (body["level"], body["department"]) == ("departement", "31")
    assert {row["key"] for row in body["rows"]} == {"gpo-toulouse", "gpo-toulouse-nord"}
    assert figures_of(body["total"]) == expected_unit(gpo_codes("31"), seeded, single=False)
    for path in ("", "/export.csv", "/export.pdf"):
        other = client.get(f"/api/v1/overview/departements/13{path}", headers=tokens["departement"])
        assert other.status_code == 404, path
        assert other.mimetype == PROBLEM
    # A département with no GPO: the ministry finds nothing there either.
    assert (
        client.get("/api/v1/overview/departements/75", headers=tokens["national"]).status_code
        == 404
    )
    for role in ("gpo_referent", "operator", "command_centre", "admin"):
        assert client.get("/api/v1/overview", headers=tokens[role]).status_code == 403, role


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("from=2026-13-01", {"from"}),
        ("from=yesterday&to=2026-02-30", {"from", "to"}),
        ("from=2026-03-10&to=2026-03-01", {"to"}),
        ("from=2030-01-01", {"from"}),
        ("from=2020-01-01&to=2026-01-01", {"to"}),
        ("to=1999-01-01", {"to"}),
        ("departement=31", {"departement"}),
    ],
)
def test_bad_periods_name_their_fields(setup: Any, query: str, fields: set[str]) -> None:
    client, tokens, _ = setup
    for path in ("/api/v1/overview", "/api/v1/overview/export.csv", "/api/v1/hotspots"):
        response = client.get(f"{path}?{query}", headers=tokens["national"])
        assert response.status_code == 422, (path, response.get_json())
        assert response.mimetype == PROBLEM
        assert {e["field"] for e in response.get_json()["errors"]} == fields, path


@pytest.mark.parametrize("code", ["99", "3", "2C", "abc", "310"])
def test_unknown_department_code_is_named(setup: Any, code: str) -> None:
    client, tokens, _ = setup
    response = client.get(f"/api/v1/overview/departements/{code}", headers=tokens["national"])
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert [e["field"] for e in response.get_json()["errors"]] == ["department"]


def test_default_period_is_twelve_calendar_months(setup: Any) -> None:
    client, tokens, _ = setup
    body = client.get("/api/v1/overview", headers=tokens["national"]).get_json()
    assert (body["from"], body["to"]) == ("2025-04-01", "2026-03-14")
    assert list(body["total"]["problems"]["identified_by_month"]) == [
        f"{y}-{m:02d}" for y, m in [(2025, n) for n in range(4, 13)] + [(2026, 1), (2026, 2),
                                                                       (2026, 3)]
    ]  # fmt: skip


# --- exports --------------------------------------------------------------------------------


def audit_entries(db: Database) -> list[AuditEntry]:
    with db.transaction() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "overview.export"))
        )


def test_csv_export_holds_the_figures_and_is_audited(setup: Any, db: Database) -> None:
    client, tokens, seeded = setup
    response = client.get(f"/api/v1/overview/export.csv?{PERIOD}", headers=tokens["national"])
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert not [value for value in PERSONAL if value in text]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["niveau"], r["code"]) for r in rows] == [
        ("departement", "13"),
        ("departement", "31"),
        ("total_national", "national"),
    ]
    for row in rows:
        expected = expected_unit(gpo_codes(None if row["code"] == "national" else row["code"]),
                                 seeded, single=False)  # fmt: skip
        assert int(row["problemes_identifies"]) == expected["problems"]["identified"]
        assert int(row["problemes_resolus"]) == expected["problems"]["resolved"]
        assert int(row["reunions_tenues"]) == expected["meetings"]["held"]
        assert int(row["incidents"]) == expected["incidents"]["count"]
        assert int(row["incidents_persons"]) == expected["incidents"]["by_family"]["persons"]
        assert int(row["agents_victimes"]) == expected["incidents"]["staff_victims"]
        assert int(row["rdv_pris"]) == expected["appointments"]["booked"]
        assert int(row["gpo_actifs"]) == expected["gpos"]["active"]
    entries = audit_entries(db)
    assert [(e.role, e.resource_id, e.detail["format"]) for e in entries] == [
        ("national", "national", "csv")
    ]
    assert entries[0].detail["from"] == FIRST.isoformat()


def test_pdf_exports_are_audited_and_without_personal_data(setup: Any, db: Database) -> None:
    client, tokens, _ = setup
    national = client.get(f"/api/v1/overview/export.pdf?{PERIOD}", headers=tokens["national"])
    local = client.get(
        f"/api/v1/overview/departements/31/export.pdf?{PERIOD}", headers=tokens["departement"]
    )
    for response in (national, local):
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
        assert "Problèmes identifiés et résolus par mois" in text
        assert not [value for value in PERSONAL if value in text]
    assert "Département 31" in text
    assert "GPO transports Toulouse Nord" in text
    csv_local = client.get(
        f"/api/v1/overview/departements/31/export.csv?{PERIOD}", headers=tokens["departement"]
    )
    assert [r["code"] for r in csv.DictReader(io.StringIO(csv_local.get_data(as_text=True)))] == [
        "gpo-toulouse",
        "gpo-toulouse-nord",
        "31",
    ]
    assert [(e.role, e.resource_id, e.detail["format"]) for e in audit_entries(db)] == [
        ("national", "national", "pdf"),
        ("departement", "31", "pdf"),
        ("departement", "31", "csv"),
    ]
    # A refused export writes nothing.
    client.get(
        f"/api/v1/overview/departements/13/export.csv?{PERIOD}", headers=tokens["departement"]
    )
    assert len(audit_entries(db)) == 3


def test_json_views_hold_no_personal_data_nor_incident_ids(setup: Any) -> None:
    client, tokens, seeded = setup
    for url, caller in (
        (f"/api/v1/overview?{PERIOD}", "national"),
        (f"/api/v1/overview/departements/31?{PERIOD}", "departement"),
        (f"/api/v1/hotspots?{PERIOD}", "national"),
    ):
        text = client.get(url, headers=tokens[caller]).get_data(as_text=True)
        assert not [value for value in PERSONAL if value in text], url
        assert not [i for i in seeded.incident_ids.values() if i in text], url
        assert not [p for p in seeded.problem_ids if p in text], url
