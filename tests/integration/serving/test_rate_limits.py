"""Abuse limits: 429 with Retry-After on submission (per token, per address) and on sign-in."""

from __future__ import annotations

from typing import Any

import pytest

from intake_service import create_app
from tests.factories import a_sheet, create_tokens


@pytest.fixture
def limited_app(config: Any, clock: Any) -> Any:
    app = create_app(
        config.with_overrides(
            {
                "rate_limit_submission": "3/minute",
                "rate_limit_submission_address": "5/minute",
                "rate_limit_sign_in": "2/minute",
            }
        ),
        clock=clock,
    )
    yield app
    app.extensions["intake.db"].dispose()


def test_submissions_beyond_the_token_limit_answer_429(limited_app: Any, clock: Any) -> None:
    headers = create_tokens(limited_app.extensions["intake.db"], clock.now)
    client = limited_app.test_client()
    statuses = [
        client.post(
            "/api/v1/incidents", json=a_sheet(f"RL-{n}"), headers=headers["operator"]
        ).status_code
        for n in range(4)
    ]
    assert statuses == [201, 201, 201, 429]
    refused = client.post("/api/v1/incidents", json=a_sheet("RL-9"), headers=headers["operator"])
    assert refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    # Another token still has its own allowance, until the address limit.
    other = [
        client.post(
            "/api/v1/incidents", json=a_sheet(f"RL-M{n}"), headers=headers["other_operator"]
        ).status_code
        for n in range(3)
    ]
    assert other == [201, 201, 429]  # 5 per address: 3 + these 2, then the address is full


def test_reading_is_not_limited(limited_app: Any, clock: Any) -> None:
    headers = create_tokens(limited_app.extensions["intake.db"], clock.now)
    client = limited_app.test_client()
    assert {
        client.get("/api/v1/incidents", headers=headers["operator"]).status_code for _ in range(8)
    } == {200}


def test_sign_in_attempts_are_limited_per_address(limited_app: Any) -> None:
    client = limited_app.test_client()
    limited_app.config["WTF_CSRF_ENABLED"] = False
    statuses = [
        client.post("/connexion", data={"email": "x@y.fr", "password": "nope"}).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_limits_are_shared_through_redis_by_every_process(config: Any, clock: Any) -> None:
    from tests.conftest import REDIS_URL, require_service

    require_service("Redis", "127.0.0.1", 6379)
    import uuid

    settings = {
        "redis_url": REDIS_URL,
        "rate_limit_submission": "3/minute",
        "rate_limit_submission_address": "",
    }
    first, second = (
        create_app(config.with_overrides(settings), clock=clock),
        create_app(config.with_overrides(settings), clock=clock),
    )
    headers = create_tokens(first.extensions["intake.db"], clock.now)["operator"]
    prefix = uuid.uuid4().hex[:6]
    statuses = [
        app.test_client()
        .post("/api/v1/incidents", json=a_sheet(f"{prefix}-{n}"), headers=headers)
        .status_code
        for n, app in enumerate((first, second, first, second))
    ]
    # The token hash is new for this test, so earlier runs left nothing in Redis.
    assert statuses == [201, 201, 201, 429]


def test_the_sign_in_page_says_when_to_retry(limited_app: Any) -> None:
    limited_app.config["WTF_CSRF_ENABLED"] = False
    client = limited_app.test_client()
    for _ in range(2):
        client.post("/connexion", data={"email": "x@y.fr", "password": "nope"})
    refused = client.post("/connexion", data={"email": "x@y.fr", "password": "nope"})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert "Trop de requêtes" in refused.get_data(as_text=True)
