"""Behind a reverse proxy: the client's address is the one the trusted hops forwarded.

Without a trusted hop (the default), ``X-Forwarded-For`` is the client's own claim and
is ignored: anyone could otherwise pick a fresh address per request and escape the limits.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from intake_service import create_app
from intake_service.models import AuditEntry
from tests.factories import a_sheet, create_tokens


@pytest.fixture
def proxied_app(config: Any, clock: Any, request: Any) -> Any:
    app = create_app(
        config.with_overrides(
            {"trusted_proxy_hops": request.param, "rate_limit_submission_address": "2/minute"}
        ),
        clock=clock,
    )
    yield app
    app.extensions["intake.db"].dispose()


def _submit(client: Any, headers: dict[str, str], reference: str, forwarded: str) -> int:
    response = client.post(
        "/api/v1/incidents",
        json=a_sheet(reference),
        headers={**headers, "X-Forwarded-For": forwarded},
    )
    return int(response.status_code)


@pytest.mark.parametrize("proxied_app", [1], indirect=True)
def test_one_trusted_hop_limits_and_audits_the_forwarded_address(
    proxied_app: Any, clock: Any
) -> None:
    headers = create_tokens(proxied_app.extensions["intake.db"], clock.now)["operator"]
    client = proxied_app.test_client()
    first = [_submit(client, headers, f"PX-A{n}", "203.0.113.7") for n in range(3)]
    other = [_submit(client, headers, f"PX-B{n}", "198.51.100.9") for n in range(2)]
    assert first == [201, 201, 429]
    assert other == [201, 201]  # another client behind the same proxy has its own allowance

    created = client.post(
        "/api/v1/incidents",
        json=a_sheet("PX-C"),
        headers={**headers, "X-Forwarded-For": "192.0.2.44"},
    ).get_json()
    client.get(
        f"/api/v1/incidents/{created['id']}",
        headers={**headers, "X-Forwarded-For": "spoofed, 192.0.2.45"},
    )
    with proxied_app.extensions["intake.db"].transaction() as session:
        addresses = set(
            session.scalars(
                select(AuditEntry.address).where(AuditEntry.resource_id == created["id"])
            )
        )
    # The submission and the read, each from its forwarded address; of a chain, only the
    # last hop (the proxy's own addition) is trusted, not what the client put before it.
    assert addresses == {"192.0.2.44", "192.0.2.45"}


@pytest.mark.parametrize("proxied_app", [0], indirect=True)
def test_without_a_trusted_hop_the_forwarded_header_is_ignored(
    proxied_app: Any, clock: Any
) -> None:
    headers = create_tokens(proxied_app.extensions["intake.db"], clock.now)["operator"]
    client = proxied_app.test_client()
    statuses = [_submit(client, headers, f"PX-S{n}", f"203.0.113.{n}") for n in range(3)]
    assert statuses == [201, 201, 429]  # a fresh claimed address each time changes nothing
