"""The access matrix: every endpoint and page × every caller → the expected status.

The matrix is data, ``tests/access_matrix.yaml``, reviewed in the repository. Here:

- every (method, rule) of the application's url_map has exactly one row, or is listed
  as public: a new endpoint without a reviewed row fails;
- each row is requested as each caller (bearer token for the API, session cookie for
  the pages, nothing for ``anonymous``) and the status is asserted.

One application per database, built once for the module: operators tisseo and
mistral, a token and a signed-in page account per caller, the police zones of
Toulouse (ddsp-31) and Toulon (ddsp-83), and one tisseo incident in Toulouse.
Rows that change state act on a fresh incident per request, so the order of the
callers does not matter. Runs on SQLite and PostgreSQL: about 10 s each.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import itertools
import pkgutil
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

import tests.access_seeds
from intake_service import create_app
from intake_service.access.accounts import add_user
from intake_service.access.rules.permissions import Principal
from intake_service.access.tokens import create_token
from intake_service.feed import webhooks
from intake_service.models import Incident, Operator
from intake_service.platform.config import Config
from intake_service.territory import zones
from tests.conftest import REFERENCE_INSTANT, Clock, _truncate
from tests.factories import a_sheet, create_tokens

MATRIX_PATH = Path(__file__).resolve().parents[2] / "access_matrix.yaml"
MATRIX: dict[str, Any] = yaml.safe_load(MATRIX_PATH.read_text(encoding="utf-8"))
ROLES: tuple[str, ...] = tuple(MATRIX["roles"])
ROWS: list[dict[str, Any]] = MATRIX["rows"]
PUBLIC: list[dict[str, Any]] = MATRIX["public"]

IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
STATUSES = frozenset({200, 201, 204, 302, 303, 401, 403, 404, 409, 428})
ROW_KEYS = frozenset(
    {"method", "rule", "body", "fresh", "stream", "expect", "xfail", "no_personal_data"}
)
SESSION_COOKIE = "intake_session"
PASSWORD = "mot-de-passe-de-test"
ZONES = [("31555", "ddsp-31", "DIPN 31"), ("83137", "ddsp-83", "DIPN 83")]

# Who each caller is: (role, scope) of its token and of its page account.
CALLERS: dict[str, tuple[str, str]] = {
    "operator": ("operator", "tisseo"),
    "operator_foreign": ("operator", "mistral"),
    "command_centre": ("command_centre", "ddsp-31"),
    "command_centre_foreign": ("command_centre", "ddsp-83"),
    "gpo_referent": ("gpo_referent", "gpo-toulouse"),
    "gpo_partner": ("gpo_partner", "gpo-toulouse"),
    "station_officer": ("station_officer", "csp-toulouse"),
    "admin": ("admin", "*"),
    "national": ("national", "*"),
    "departement": ("departement", "31"),
}


def email_of(caller: str) -> str:
    return f"{caller.replace('_', '-')}@matrix.test"


def row_id(row: dict[str, Any]) -> str:
    return f"{row['method']} {row['rule']}"


def is_api(rule: str) -> bool:
    return rule.startswith("/api/")


# --- the request bodies rows name ---------------------------------------------------------

_references = itertools.count(1)


def _reference(prefix: str) -> str:
    return f"{prefix}-{next(_references):06d}"


def toulouse_sheet(reference: str) -> dict[str, Any]:
    """A valid P1 sheet in Toulouse (31555): routed to ddsp-31."""
    sheet = a_sheet(reference)
    sheet["location"]["insee_code"] = "31555"
    return sheet


def sheet_form() -> dict[str, Any]:
    """The web form of a valid sheet in Toulouse, as a browser posts it."""
    return {
        "operator_reference": _reference("FORM"),
        "channel": "phone",
        "reported_by.role": "driver",
        "reported_by.callback_phone": "06 12 34 56 78",
        "occurred_at": "2026-03-14T18:20",  # Paris time: 17:20 UTC, ten minutes ago
        "state": "over",
        "natures": ["threat_or_insult_staff"],
        "primary_nature": "threat_or_insult_staff",
        "narrative": "Un voyageur a insulté le conducteur puis est descendu.",
        "location.mode": "3",
        "location.place": "on_board",
        "location.route_id": "line:142",
        "location.vehicle_id": "1742",
        "location.insee_code": "31555",
        "injuries.count": "0",
        "injuries.severity": "none",
        "emergency_services_called": "non",
        "suspects.count": "1",
        "suspects.status": "fled",
        "suspects.flight_direction": "Vers le métro, à pied",
        "suspects.weapon": "none",
        "video.exists": "no",
    }


# name → (kind, factory): JSON for the API, form fields for the pages.
BODIES: dict[str, tuple[str, Callable[[], Any]]] = {
    "sheet": ("json", lambda: toulouse_sheet(_reference("MATRIX"))),
    "amendment": ("json", lambda: {"witnesses_count": 4}),
    "message": ("json", lambda: {"text": "Direction de fuite ?"}),
    "withdrawal": ("json", lambda: {"reason": "Fiche envoyée par erreur."}),
    "status_ack": ("json", lambda: {"status": "acknowledged"}),
    "webhook": ("json", lambda: {"url": "https://hooks.example.org/intake"}),
    "sheet_form": ("form", sheet_form),
    "withdrawal_form": ("form", lambda: {"motif": "Fiche envoyée par erreur."}),
    "console_ack": ("form", lambda: {"action": "acknowledged"}),
    "message_form": ("form", lambda: {"genre": "message", "texte": "Patrouille en route."}),
    "take_form": ("form", lambda: {"prise": "take"}),
    "sign_in_refused": (
        "form",
        lambda: {"email": "personne@inconnu.test", "password": "pas-le-bon-mot-de-passe"},
    ),
}
FRESH = {"incident", "webhook"}

# Each feature's seeds live in a module of tests/access_seeds: ``seed(setting)`` returns
# the values of the rules' variables (``{"problem_id": ...}``), ``FRESH`` maps a row's
# ``fresh`` name to a function making new values per request, ``BODIES`` adds bodies.
SEED_MODULES = [
    importlib.import_module(f"tests.access_seeds.{info.name}")
    for info in pkgutil.iter_modules(tests.access_seeds.__path__)
]
FRESH_MAKERS: dict[str, Callable[[Any], dict[str, str]]] = {}
for _module in SEED_MODULES:
    BODIES.update(getattr(_module, "BODIES", {}))
    FRESH_MAKERS.update(getattr(_module, "FRESH", {}))
FRESH |= set(FRESH_MAKERS)
RULE_VARIABLE = re.compile(r"<(?:\w+:)?(\w+)>")


# The personal data of the seeded sheets (tests.factories.BASE_SHEET), as sent and as stored.
PERSONAL_DATA = (
    "Agent Fictif",
    "06 12 34 56 78",
    "+33612345678",
    "PC sûreté Tisséo",
    "05 61 00 00 17",
    "+33561000017",
    "Veste rouge",
    "frappé par un voyageur",
)


# The callers that must never reach a sheet's personal data, whatever the row.
AGGREGATE_ONLY = frozenset({"gpo_partner", "national", "departement"})


def text_of(response: Any) -> str:
    """What a response says: its text, or the text of its pages for a PDF."""
    data: bytes = response.get_data()
    if response.mimetype == "application/pdf":
        reader = pypdf.PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() for page in reader.pages)
    return data.decode("utf-8", "replace")


# --- the matrix is complete and well formed -----------------------------------------------


def _config(tmp_path: Path, database_url: str) -> Config:
    return Config(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        broker_url="memory://",
        redis_url=None,
        secret_key="test-secret",
        embedded=False,
        # Rate limits and SSRF checks have their own tests; they must not answer here.
        webhook_allow_private=True,
        rate_limit_submission="",
        rate_limit_submission_address="",
        rate_limit_sign_in="",
    )


def reachable_endpoints(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_every_endpoint_has_exactly_one_row_or_is_public(tmp_path: Path) -> None:
    # The url_map is built without touching the database.
    app = create_app(_config(tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite'}"))
    reachable = reachable_endpoints(app)
    rows = [(row["method"], row["rule"]) for row in ROWS]
    public = [(entry["method"], entry["rule"]) for entry in PUBLIC]
    duplicated = sorted({key for key in rows + public if (rows + public).count(key) > 1})
    assert not duplicated, f"endpoints with several rows in {MATRIX_PATH.name}: {duplicated}"
    missing = sorted(reachable - set(rows) - set(public))
    assert not missing, (
        f"endpoints without a row in {MATRIX_PATH.name} (add one, with the status every "
        f"caller must get): {missing}"
    )
    stale = sorted(set(rows + public) - reachable)
    assert not stale, f"rows of {MATRIX_PATH.name} for no endpoint of the app: {stale}"
    assert all(entry.get("reason") for entry in PUBLIC), "every public endpoint says why"


@pytest.mark.parametrize("row", ROWS, ids=row_id)
def test_row_is_well_formed(row: dict[str, Any]) -> None:
    assert set(row) <= ROW_KEYS, f"unknown keys: {set(row) - ROW_KEYS}"
    assert set(row["expect"]) == set(ROLES), "one status per caller, no more, no less"
    assert set(row["expect"].values()) <= STATUSES
    assert row.get("body") is None or row["body"] in BODIES
    assert row.get("fresh") is None or row["fresh"] in FRESH
    if "<incident_id>" in row["rule"] and row["method"] not in ("GET", "HEAD"):
        assert row.get("fresh") == "incident", "a change to an incident acts on a fresh one"
    xfail = row.get("xfail")
    assert xfail is None or isinstance(xfail, str) or set(xfail) <= set(ROLES)


# --- the matrix, request by request -------------------------------------------------------


@dataclasses.dataclass
class Setting:
    """One application and database, with every caller's credentials."""

    app: Flask
    clock: Clock
    tokens: dict[str, dict[str, str]]  # caller → Authorization header
    cookies: dict[str, str]  # caller → session cookie of its signed-in account
    incident_id: str  # tisseo's incident in Toulouse, routed to ddsp-31
    # The values of other rule variables, from tests/access_seeds.
    values: dict[str, str] = dataclasses.field(default_factory=dict)

    def new_incident(self) -> str:
        client = self.app.test_client()
        sheet = toulouse_sheet(_reference("FRESH"))
        response = client.post("/api/v1/incidents", json=sheet, headers=self.tokens["operator"])
        assert response.status_code == 201, response.get_json()
        incident_id: str = response.get_json()["id"]
        return incident_id

    def register_webhooks(self) -> None:
        db = self.app.extensions["intake.db"]
        with db.transaction() as session:
            for code in ("tisseo", "mistral"):
                operator = session.query(Operator).filter_by(code=code).one()
                webhooks.register(
                    session,
                    Principal(role="operator", scope=code, actor="test:access-matrix"),
                    operator.id,
                    "https://hooks.example.org/intake",
                    now=self.clock.now,
                    allow_private=True,
                )

    def page_client(self, caller: str) -> FlaskClient:
        """A client of its own per request, with the caller's session cookie."""
        client = self.app.test_client()
        if caller in self.cookies:
            client.set_cookie(SESSION_COOKIE, self.cookies[caller])
        return client

    def sign_in(self, caller: str) -> None:
        """Open a session for ``caller`` and keep its cookie (again after a sign-out,
        which ends every session of the account: issue 17). From an address of its own:
        the rows' refused sign-ins make theirs wait (access/rules/sign_in_delay.py)."""
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = "198.51.100.1"
        signed = client.post("/connexion", data={"email": email_of(caller), "password": PASSWORD})
        assert signed.status_code == 302, f"{caller} could not sign in"
        cookie = client.get_cookie(SESSION_COOKIE)
        assert cookie is not None
        self.cookies[caller] = cookie.value


def _database_url(request: pytest.FixtureRequest, folder: Path) -> str:
    if request.param == "sqlite":
        path = folder / "intake.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate(url)
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def setting(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setting]:
    folder = tmp_path_factory.mktemp("access-matrix")
    clock = Clock(REFERENCE_INSTANT)
    app = create_app(_config(folder, _database_url(request, folder)), clock=clock)
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests (tests/e2e)
    db = app.extensions["intake.db"]
    now = clock.now

    headers = create_tokens(db, now)  # also adds the operators tisseo and mistral
    tokens = {caller: headers[caller] for caller in CALLERS if caller in headers}
    tokens["operator_foreign"] = headers["other_operator"]
    tokens["anonymous"] = {}
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
        made = create_token(session, "command_centre", "ddsp-83", "test ddsp-83", now=now)
        tokens["command_centre_foreign"] = {"Authorization": f"Bearer {made.secret}"}
        for caller, (role, scope) in CALLERS.items():
            add_user(session, email_of(caller), PASSWORD, role, scope, now=now)

    setting = Setting(app, clock, tokens, {}, incident_id="")
    for caller in CALLERS:
        setting.sign_in(caller)
    setting.incident_id = setting.new_incident()
    with db.transaction() as session:
        seeded = session.get(Incident, setting.incident_id)
        assert seeded is not None
        assert seeded.service_code == "ddsp-31"
    setting.register_webhooks()
    for module in SEED_MODULES:
        setting.values.update(module.seed(setting))
    yield setting
    db.dispose()


def _cases() -> list[Any]:
    """Each row × each caller; a caller the row's ``xfail`` names is a strict xfail."""
    cases = []
    for row in ROWS:
        xfail = row.get("xfail")
        for role in ROLES:
            reason: str | None = xfail if isinstance(xfail, str) else (xfail or {}).get(role)
            # Strict: once the bug is fixed, the passing case fails until its xfail is removed.
            marks = (
                [pytest.mark.xfail(reason=reason, strict=True, raises=AssertionError)]
                if reason
                else []
            )
            cases.append(pytest.param(row, role, id=f"{row_id(row)} as {role}", marks=marks))
    return cases


@pytest.mark.parametrize(("row", "role"), _cases())
def test_access(setting: Setting, row: dict[str, Any], role: str) -> None:
    rule: str = row["rule"]
    incident_id = setting.incident_id
    if row.get("fresh") == "incident":
        incident_id = setting.new_incident()
    elif row.get("fresh") == "webhook":
        setting.register_webhooks()
    values = {**setting.values, "incident_id": incident_id}
    if row.get("fresh") in FRESH_MAKERS:
        values.update(FRESH_MAKERS[row["fresh"]](setting))
    url = RULE_VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), rule)
    assert "<" not in url, f"no value for the variables of {rule}"

    options: dict[str, Any] = {}
    if row.get("body"):
        kind, make = BODIES[row["body"]]
        options["json" if kind == "json" else "data"] = make()
    if is_api(rule):
        client = setting.app.test_client()
        options["headers"] = setting.tokens[role]
    else:
        client = setting.page_client(role)
    # A stream never ends: take the status of its headers, never read the body.
    response = client.open(url, method=row["method"], buffered=not row.get("stream"), **options)
    try:
        status = response.status_code
        location = response.headers.get("Location", "")
        reached = "" if row.get("stream") or status >= 300 else text_of(response)
    finally:
        response.close()
    if rule == "/deconnexion" and role in setting.cookies:
        setting.sign_in(role)  # the next rows need the caller signed in

    expected = row["expect"][role]
    assert status == expected, f"{row['method']} {url} as {role}: {status}, expected {expected}"
    # ``no_personal_data``: callers of an export without identities (issue 16), checked too.
    if role in AGGREGATE_ONLY or role in row.get("no_personal_data", ()):
        # Field-level rule: whatever a partner, the ministry or a département's direction
        # reaches holds no personal data of the sheets.
        leaked = [value for value in PERSONAL_DATA if value in reached]
        assert not leaked, f"{row['method']} {url} shows {role} personal data: {leaked}"
    if status == 302 and role == "anonymous" and not is_api(rule) and rule != "/deconnexion":
        assert location.startswith("/connexion"), location
