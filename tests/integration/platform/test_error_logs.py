"""An unexpected database error logs neither the statement's parameters nor the server's
message quoting them (issue 17: the probe's 500s logged names, comments and emails)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

SECRET = "Agent Fictif 06 12 34 56 78"


def test_a_failing_statement_does_not_quote_its_parameters(pg_app: Any) -> None:
    db = pg_app.extensions["intake.db"]
    with pytest.raises(DBAPIError) as raised, db.transaction() as session:
        session.execute(text("SELECT CAST(:value AS integer)"), {"value": SECRET})
    assert "[SQL parameters hidden" in str(raised.value)


def test_an_unhandled_database_error_logs_no_personal_data(
    pg_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    db = pg_app.extensions["intake.db"]

    def failing() -> Any:
        with db.transaction() as session:
            # PostgreSQL's message quotes the value: invalid input syntax … "Agent Fictif …"
            session.execute(text("SELECT CAST(:value AS integer)"), {"value": SECRET})
        return "unreachable"

    pg_app.add_url_rule("/api/v1/test-failing", "test_failing", failing)
    with caplog.at_level(logging.ERROR):
        response = pg_app.test_client().get("/api/v1/test-failing")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    logged = "\n".join(
        record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        for record in caplog.records
    )
    assert "unhandled database error on GET /api/v1/test-failing" in logged
    assert "InvalidTextRepresentation (SQLSTATE 22P02)" in logged
    assert "Agent Fictif" not in logged
    assert "06 12 34 56 78" not in logged
