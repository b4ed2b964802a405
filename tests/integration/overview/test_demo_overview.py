"""The demo data gives the national view two départements (31 and 83), the second GPO
with held meetings, and loading it twice changes nothing."""

from __future__ import annotations

from typing import Any

from intake_service import demo
from intake_service.access.rules.permissions import Principal
from intake_service.appointments.policy import policy_of
from intake_service.overview import national
from intake_service.overview.rules import figures
from intake_service.platform.db import Database
from tests.conftest import Clock

MINISTRY = Principal(role="national", scope="*", actor="test:ministère")


def test_demo_shows_two_departments(app: Any, db: Database, clock: Clock) -> None:
    config = app.extensions["intake.config"]
    for _ in range(2):
        with db.transaction() as session:
            demo.load(session, now=clock.now, commune_of=lambda lat, lon: None,
                      policy=policy_of(config))  # fmt: skip
    period = figures.default_period(figures.paris_day(clock.now))
    with db.transaction() as session:
        found = national.overview(session, MINISTRY, period, clock.now)
    rows = {row.key: row for row in found.rows}
    assert set(rows) == {"31", "83"}
    assert rows["83"].meetings.held == len(demo.SECOND_GPO_MEETINGS)
    assert rows["83"].gpos_active == 1
    assert rows["83"].problems.identified == 1
    assert found.total.gpos_deployed == 2


def test_readme_examples_answer_with_the_demo_tokens(app: Any, db: Database, clock: Clock) -> None:
    config = app.extensions["intake.config"]
    with db.transaction() as session:
        demo.load(session, now=clock.now, commune_of=lambda lat, lon: None,
                  policy=policy_of(config))  # fmt: skip
    client = app.test_client()
    for url, token in (
        ("/api/v1/overview?from=2025-04-01&to=2026-03-31", "demo-national"),
        ("/api/v1/overview/departements/31", "demo-departement-31"),
        ("/api/v1/overview/export.csv", "demo-national"),
        ("/api/v1/overview/export.pdf", "demo-national"),
        ("/api/v1/hotspots?from=2026-01-01", "demo-gpo-referent"),
    ):
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (url, response.get_json())
    body = client.get(
        "/api/v1/overview", headers={"Authorization": "Bearer demo-departement-31"}
    ).get_json()
    assert [row["key"] for row in body["rows"]] == ["gpo-toulouse"]
