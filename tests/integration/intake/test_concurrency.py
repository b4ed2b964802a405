"""Races on real PostgreSQL: parallel retries never create a second incident."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from intake_service.models import IdempotencyRecord, Incident, OutboxEvent
from tests.factories import a_sheet, create_tokens

PARALLEL = 50


def submit_in_parallel(app: Any, headers: dict[str, str]) -> list[Any]:
    barrier = threading.Barrier(PARALLEL)
    sheet = a_sheet("RACE-1")

    def submit(_: int) -> tuple[int, str | None]:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/incidents", json=sheet, headers=headers)
        return response.status_code, response.headers.get("Location")

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(submit, range(PARALLEL)))


def counts(app: Any) -> tuple[int, int, int]:
    with app.extensions["intake.db"].transaction() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Incident, OutboxEvent, IdempotencyRecord)
        )


@pytest.mark.slow
def test_fifty_parallel_retries_with_one_key_create_one_incident(pg_app: Any, clock: Any) -> None:
    headers = create_tokens(pg_app.extensions["intake.db"], clock.now)["operator"]
    results = submit_in_parallel(pg_app, {**headers, "Idempotency-Key": "race-key"})
    assert Counter(status for status, _ in results) == {201: PARALLEL}
    assert len({location for _, location in results}) == 1
    assert counts(pg_app) == (1, 1, 1)


@pytest.mark.slow
def test_fifty_parallel_sends_of_one_reference_without_key_create_one_incident(
    pg_app: Any, clock: Any
) -> None:
    headers = create_tokens(pg_app.extensions["intake.db"], clock.now)["operator"]
    results = submit_in_parallel(pg_app, headers)
    assert Counter(status for status, _ in results) == {201: 1, 409: PARALLEL - 1}
    assert len({location for _, location in results}) == 1
    assert counts(pg_app) == (1, 1, 0)


AMENDERS = 20


@pytest.mark.slow
def test_twenty_amendments_of_one_version_let_one_through(pg_app: Any, clock: Any) -> None:
    headers = create_tokens(pg_app.extensions["intake.db"], clock.now)["operator"]
    client = pg_app.test_client()
    created = client.post("/api/v1/incidents", json=a_sheet("RACE-AMEND"), headers=headers)
    assert created.headers["ETag"] == '"1"'
    url = f"{created.headers['Location']}/amendments"
    barrier = threading.Barrier(AMENDERS)

    def amend(n: int) -> int:
        barrier.wait()
        return int(
            pg_app.test_client()
            .post(
                url,
                json={"narrative": f"Précision n° {n} apportée par le poste de commande."},
                headers={**headers, "If-Match": '"1"'},
            )
            .status_code
        )

    with ThreadPoolExecutor(AMENDERS) as pool:
        statuses = Counter(pool.map(amend, range(AMENDERS)))
    assert statuses == {200: 1, 412: AMENDERS - 1}  # not "the last writer wins"
    current = client.get(created.headers["Location"], headers=headers)
    assert current.headers["ETag"] == '"2"'
    assert (
        len(
            client.get(f"{created.headers['Location']}/versions", headers=headers).get_json()[
                "items"
            ]
        )
        == 2
    )
