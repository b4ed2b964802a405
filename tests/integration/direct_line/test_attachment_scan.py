"""Attachments scanned by a real ClamAV daemon before they are kept, on SQLite and
PostgreSQL: an infected file is refused and nothing of it stays; a scanner that does
not answer refuses the file (never kept unscanned)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from intake_service.direct_line.attachments import store_of
from intake_service.models import Attachment
from tests import attachment_files as files
from tests.clamd import EICAR, clamd_socket  # noqa: F401 - the fixture
from tests.conftest import app_config
from tests.factories import a_sheet, create_tokens
from tests.integration.direct_line.test_attachments_api import attachments_of

PROBLEM = "application/problem+json"


def infected_pdf() -> bytes:
    whole = files.pdf()
    return whole[:9] + b"%" + EICAR + b"\n" + whole[9:]


@pytest.fixture
def config(database_url: str, tmp_path: Path, clamd_socket: Path) -> Any:  # noqa: F811
    return app_config(database_url, tmp_path / "instance", clamd_url=f"unix://{clamd_socket}")


def _incident(app: Any, db: Any, clock: Any) -> tuple[str, dict[str, str]]:
    headers = create_tokens(db, clock.now)
    sheet = a_sheet("SCAN-1")
    response = app.test_client().post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 201
    return str(response.get_json()["id"]), headers["operator"]


def _upload(client: Any, headers: dict[str, str], incident_id: str, data: bytes) -> Any:
    return client.post(
        attachments_of(incident_id),
        data={"file": (io.BytesIO(data), "scan.pdf")},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_an_infected_file_is_refused_before_it_is_visible(app: Any, db: Any, clock: Any) -> None:
    incident_id, operator = _incident(app, db, clock)
    client = app.test_client()
    clean = _upload(client, operator, incident_id, files.pdf())
    assert clean.status_code == 201, clean.get_json()
    infected = _upload(client, operator, incident_id, infected_pdf())
    assert infected.status_code == 422, infected.get_json()
    assert infected.mimetype == PROBLEM
    error = infected.get_json()["errors"][0]
    assert error["field"] == "file"
    assert "Eicar-Test-Signature" in error["message"]
    with db.reading() as session:
        assert len(session.scalars(select(Attachment)).all()) == 1
    root = store_of(app.extensions["intake.config"]).root
    assert len([p for p in root.rglob("*") if p.is_file()]) == 1


def test_a_scanner_that_does_not_answer_refuses_the_file(
    app: Any, db: Any, clock: Any, tmp_path: Path
) -> None:
    app.extensions["intake.config"] = app.extensions["intake.config"].with_overrides(
        {"clamd_url": f"unix://{tmp_path / 'no-clamd.sock'}"}
    )
    incident_id, operator = _incident(app, db, clock)
    refused = _upload(app.test_client(), operator, incident_id, files.pdf())
    assert refused.status_code == 503
    assert refused.mimetype == PROBLEM
    with db.reading() as session:
        assert session.scalars(select(Attachment)).all() == []
