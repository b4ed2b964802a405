"""``/readyz`` against the real brokers of the machine, and when one is down."""

from __future__ import annotations

from typing import Any

import pytest

from intake_service import create_app
from tests.conftest import RABBITMQ_URL, REDIS_URL, require_service


@pytest.mark.broker
@pytest.mark.parametrize(
    ("name", "port", "url"),
    [("Redis", 6379, REDIS_URL), ("RabbitMQ", 5672, RABBITMQ_URL)],
)
def test_ready_on_a_real_broker(config: Any, clock: Any, name: str, port: int, url: str) -> None:
    require_service(name, "127.0.0.1", port)
    app = create_app(config.with_overrides({"broker_url": url}), clock=clock)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//"])
def test_still_ready_when_only_the_broker_is_down(config: Any, clock: Any, url: str) -> None:
    """The outbox keeps accepting sheets: an orchestrator must not pull the instance."""
    app = create_app(config.with_overrides({"broker_url": url}), clock=clock)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable")


def test_not_ready_when_the_database_is_down(config: Any, clock: Any) -> None:
    broken = config.with_overrides({"database_url": "postgresql+psycopg://127.0.0.1:1/none"})
    response = create_app(broken, clock=clock).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("unreachable")


def test_a_database_outage_answers_503_not_500(config: Any, clock: Any) -> None:
    from tests.factories import a_sheet

    broken = config.with_overrides({"database_url": "postgresql+psycopg://127.0.0.1:1/none"})
    response = (
        create_app(broken, clock=clock)
        .test_client()
        .post("/api/v1/incidents", json=a_sheet(), headers={"Authorization": "Bearer x"})
    )
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
