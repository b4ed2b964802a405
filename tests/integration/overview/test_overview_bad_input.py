"""Odd input to the national view's and hotspots' endpoints and pages, on SQLite and
PostgreSQL: always a named 4xx, never a 500 (a NUL, a lone surrogate, unknown
parameters, over-long codes)."""

from __future__ import annotations

from typing import Any

import pytest

from intake_service.platform.db import Database
from tests.appointment_data import page_client
from tests.conftest import Clock
from tests.factories import create_tokens

API = (
    "/api/v1/overview",
    "/api/v1/overview/export.csv",
    "/api/v1/overview/export.pdf",
    "/api/v1/overview/departements/31",
    "/api/v1/overview/departements/31/export.pdf",
    "/api/v1/hotspots",
)
QUERIES = {
    "from=%00": "from",
    "to=2026-01-01%00": "to",
    "from=%ED%A0%80": "from",
    "gpo=%00": "gpo",
    "period=12": "period",
}


@pytest.mark.parametrize(("query", "field"), QUERIES.items())
def test_odd_queries_are_named_never_a_500(
    app: Any, db: Database, clock: Clock, query: str, field: str
) -> None:
    tokens = create_tokens(db, clock.now)
    client = app.test_client()
    for path in API:
        if field == "gpo" and path != "/api/v1/hotspots":
            continue
        response = client.get(f"{path}?{query}", headers=tokens["national"])
        assert response.status_code in (400, 422), (path, response.status_code)
        assert response.mimetype == "application/problem+json"
        fields = {e["field"] for e in response.get_json().get("errors", [])}
        assert fields & {field, f"query.{field}"}, (path, response.get_json())


@pytest.mark.parametrize("department", ["%00", "%ED%A0%80", "x" * 300, "3%2F1"])
def test_odd_departments_are_refused(app: Any, db: Database, clock: Clock, department: str) -> None:
    tokens = create_tokens(db, clock.now)
    client = app.test_client()
    response = client.get(f"/api/v1/overview/departements/{department}", headers=tokens["national"])
    assert response.status_code in (400, 404, 422)
    assert response.mimetype == "application/problem+json"
    pages = page_client(app, db, clock.now, "national", "*")
    assert pages.get(f"/national/departements/{department}").status_code in (400, 404)
    for query in ("du=%00", "au=%ED%A0%80", "du=2026-01-01&au=%00"):
        assert pages.get(f"/national/?{query}").status_code in (200, 400), query
        assert pages.get(f"/national/points-chauds?{query}").status_code in (200, 400), query
