"""What the direct line's API tests share: every caller's token (ddsp-83's too, the
foreign command centre), the Toulouse and Toulon zones, a test client."""

from __future__ import annotations

from typing import Any

import pytest

from intake_service.access.tokens import create_token
from intake_service.territory import zones
from tests.directory_data import ZONES
from tests.factories import create_tokens


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
        secret = create_token(session, "command_centre", "ddsp-83", "test ddsp-83", now=clock.now)
        headers["ddsp_83"] = {"Authorization": f"Bearer {secret.secret}"}
    return headers


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()
