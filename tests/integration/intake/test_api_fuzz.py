"""Schema-driven fuzzing of the whole JSON API from its own OpenAPI document (issue 7).

schemathesis reads ``/api/v1/openapi.json`` from the app in-process (WSGI, no
server) and, for every operation, sends generated requests; each response must
not be a 5xx and must conform to the document: a documented status code, a
documented content type, documented headers and a body matching its schema.

Each case is authenticated with the token of the role the operation is for:
an operator for intake, amendments, withdrawals and the webhook; the command
centre for its queue, status changes and reading an incident. A few incidents
are submitted first, and path ids are drawn from them half of the time, so the
fuzzing reaches past the 404 that random ids get.

The fuzzing runs on SQLite and on PostgreSQL: the contract does not depend on the
backend, but what a backend refuses does (a NUL in a text, a lone surrogate: a 500
on PostgreSQL only, which the SQLite-only fuzzing of issue 7 could not see).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks

from intake_service import create_app
from intake_service.access.tokens import create_token
from intake_service.platform.config import Config
from tests.conftest import REFERENCE_INSTANT
from tests.factories import a_sheet, create_tokens

FUZZ_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)

PROBLEM = "application/problem+json"
COMMAND_CENTRE_PATHS = r"^/api/v1/(command-centre/incidents|incidents/\{incident_id\}/status)$"
READ_PATHS = r"^/api/v1/incidents/\{incident_id\}(/versions)?$"


@pytest.fixture
def config(config: Config) -> Config:
    """The shared config, but webhook URLs are not resolved: the fuzzed hosts would
    each be a DNS lookup on the network (the SSRF refusal has its own tests)."""
    return dataclasses.replace(config, webhook_allow_private=True)


def _openapi_document() -> dict[str, Any]:
    """The document the app serves, read at collection (parametrize needs it then).

    ``schemathesis.pytest.from_fixture`` would read it from the ``app`` fixture, but
    schemathesis 4.32 reads ``request.node._nodeid``, which pytest 9 no longer has.
    """
    with tempfile.TemporaryDirectory() as folder:
        config = Config(
            instance_path=Path(folder) / "instance",
            database_url=f"sqlite:///{folder}/unused.sqlite",
            broker_url="memory://",
            redis_url=None,
            secret_key="fuzz",
            embedded=False,
        )
        app = create_app(config, clock=lambda: REFERENCE_INSTANT)
        document: dict[str, Any] = app.test_client().get("/api/v1/openapi.json").get_json()
        app.extensions["intake.db"].dispose()
    return document


DOCUMENT = _openapi_document()


def _error_responses(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The shared error responses, and each operation's own 4xx/5xx (409, 422, 503)."""
    found = list(document["components"]["responses"].values())
    for operations in document["paths"].values():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45" and "$ref" not in response:
                    found.append(response)
    return found


class AppUnderTest:
    """A WSGI app handing each request to the current test's app.

    The schema is loaded at collection, the app is a fixture: schemathesis sends to
    this one (its follow-up probes too, which ignore ``call(app=...)``).
    """

    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


APP_UNDER_TEST = AppUnderTest()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = APP_UNDER_TEST

EXCLUDED_CHECKS = [
    # A schema-valid request may be refused with 422: the sheet has rules JSON Schema
    # cannot state (primary_nature among natures, occurred_at within bounds, a real
    # phone number, ...) and the list cursor is opaque. Those 422s are legitimate.
    checks.positive_data_acceptance,
]

# Path ids: the placeholder of one of the seeded incidents half of the time (the
# test swaps in the real id), else whatever schemathesis generates (a 404).
SEEDED = [f"seeded-incident-{index}" for index in range(4)]


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    if "incident_id" not in (path_parameters or {}):
        return st.just(path_parameters)
    return st.sampled_from(SEEDED).map(
        lambda seeded: {**path_parameters, "incident_id": seeded}
    ) | st.just(path_parameters)


@pytest.fixture
def api(app: Any, db: Any, clock: Any) -> dict[str, Any]:
    """A token per role, a few real incidents (tisseo's, then one of mistral) and a webhook."""
    headers = create_tokens(db, clock.now)
    client = app.test_client()
    ids = []
    for reference, role in [
        ("FUZZ-0", "operator"),
        ("FUZZ-1", "operator"),
        ("FUZZ-2", "operator"),
        ("FUZZ-OTHER", "other_operator"),
    ]:
        response = client.post("/api/v1/incidents", json=a_sheet(reference), headers=headers[role])
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
        service = response.get_json()["competent_service"]["code"]
    # The command centre fuzzed is the one the seeded incidents were routed to.
    with db.transaction() as session:
        token = create_token(session, "command_centre", service, "fuzz", now=clock.now)
    headers["command_centre"] = {"Authorization": f"Bearer {token.secret}"}
    response = client.put(
        "/api/v1/webhook",
        json={"url": "https://hooks.example.org/gpo"},
        headers=headers["operator"],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    APP_UNDER_TEST.app = app
    return {"headers": headers, "ids": dict(zip(SEEDED, ids, strict=True))}


def call_as(case: Any, api: dict[str, Any], role: str) -> None:
    incident_id = (case.path_parameters or {}).get("incident_id")
    if incident_id in api["ids"]:
        case.path_parameters = {**case.path_parameters, "incident_id": api["ids"][incident_id]}
    # As call headers, not case headers: the missing-header check then knows what to drop.
    case.call_and_validate(
        headers=api["headers"][role],
        excluded_checks=EXCLUDED_CHECKS,
    )


@pytest.mark.slow
@schema.exclude(path_regex=COMMAND_CENTRE_PATHS).parametrize()
@FUZZ_SETTINGS
def test_api_as_an_operator_conforms_to_its_openapi_document(case: Any, api: dict[str, Any]):
    call_as(case, api, "operator")


@pytest.mark.slow
@schema.include(path_regex=f"{COMMAND_CENTRE_PATHS}|{READ_PATHS}").parametrize()
@FUZZ_SETTINGS
def test_api_as_a_command_centre_conforms_to_its_openapi_document(case: Any, api: dict[str, Any]):
    call_as(case, api, "command_centre")


# What the fuzzing found once, kept as regressions.


def test_error_responses_are_documented_as_problem_json():
    """Every error answer is application/problem+json, and the document says so."""
    readiness = DOCUMENT["paths"]["/readyz"]["get"]["responses"][
        "503"
    ]  # the health body, by design
    undocumented = [
        response.get("description")
        for response in _error_responses(DOCUMENT)
        if response is not readiness and list(response.get("content", {})) != [PROBLEM]
    ]
    assert undocumented == []


@pytest.mark.parametrize(("method", "path"), [("TRACE", "/healthz"), ("PUT", "/api/v1/incidents")])
def test_method_not_allowed_names_the_allowed_methods(app: Any, method: str, path: str):
    response = app.test_client().open(path, method=method)
    assert response.status_code == 405
    assert response.mimetype == PROBLEM
    assert response.headers.get("Allow")
