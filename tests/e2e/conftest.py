"""Browser tests: the real app served over HTTP in a thread, Debian's Chromium driven by Playwright.

Each test module gets a fresh embedded-style database (SQLite, migrated) with
two operators, the Tisséo demo GTFS feed, a police-zone table and accounts:
``agent@tisseo.test`` (operator tisseo), ``cic@ddsp31.test`` (command centre
ddsp-31), ``cic@ddsp83.test`` (command centre ddsp-83), all with PASSWORD.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from intake_service import create_app
from intake_service.access.accounts import add_user
from intake_service.demo import GTFS_FEEDS, OPERATORS
from intake_service.intake.places import SharedCommunes
from intake_service.platform.config import Config
from intake_service.territory import zones
from intake_service.territory.gtfs import import_feed
from intake_service.territory.gtfs_feed import read_feed
from intake_service.territory.operators import add_operator
from tests.conftest import IN_CI
from tests.factories import a_sheet

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "mot-de-passe-de-test"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
ACCOUNTS = (
    ("agent@tisseo.test", "operator", "tisseo"),
    ("agent@mistral.test", "operator", "mistral"),
    ("cic@ddsp31.test", "command_centre", "ddsp-31"),
    ("cic@ddsp83.test", "command_centre", "ddsp-83"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()


def add_reference_data(session: Session, now: dt.datetime) -> None:
    """The demo's operators and their GTFS feeds, and the police zones of Toulouse and Toulon."""
    for code, name in OPERATORS:
        add_operator(session, code, name, now=now)
    communes = SharedCommunes(None)
    for code, path in GTFS_FEEDS:
        import_feed(
            session, code, read_feed(path), source="test", now=now, commune_of=communes.commune_at
        )
    zones.replace_zones(
        session,
        [
            ("31555", "ddsp-31", "DIPN 31 — CSP Toulouse"),
            ("83137", "ddsp-83", "DIPN 83 — CSP Toulon"),
        ],
    )


@pytest.fixture(scope="module")
def live_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("pages")
    shutil.copy(sqlite_template, folder / "intake.sqlite")
    config = Config(
        instance_path=folder,
        database_url=f"sqlite:///{folder / 'intake.sqlite'}",
        broker_url="memory://",
        redis_url=None,
        secret_key="browser-tests",
        embedded=True,  # plain http on 127.0.0.1: cookies without Secure
        map_tiles_url="",  # offline: the console's map shows its markers without tiles
    )
    app = create_app(config)
    db = app.extensions["intake.db"]
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        add_reference_data(session, now)
        for email, role, scope in ACCOUNTS:
            add_user(session, email, PASSWORD, role, scope, now=now)
    server = LiveServer(app)
    yield server
    server.stop()
    db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in(browser: Any, live_server: LiveServer) -> Iterator[Callable[[str], Any]]:
    """``signed_in(email)`` → a page of a fresh browser context, signed in as that person."""
    contexts = []

    def open_as(email: str) -> Any:
        context = browser.new_context(
            locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/connexion")
        page.get_by_label("Adresse électronique").fill(email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state("networkidle")
        return page

    yield open_as
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str, *, readme: bool = False) -> None:
    """Keep a screenshot as a test artefact; UPDATE_SCREENSHOTS=1 refreshes the README's too."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if readme and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


# Line A at Capitole in Tisséo's demo feed (the live server's reference data).
CAPITOLE_PLATFORM = {
    "mode": 1,
    "place": "platform",
    "coordinates": {"lat": 43.60447, "lon": 1.44554, "accuracy_m": 10, "source": "gps"},
    "route_id": "demo:A",
    "stop_id": "demo:SA_capitole",
}


def submit_now(server: LiveServer, token: str, reference: str, **changes: Any) -> dict[str, Any]:
    """POST ``a_sheet`` (at Capitole unless ``location`` is given) that happened a minute
    ago, with an operator's token; the 201 body."""
    occurred = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    sheet = a_sheet(
        reference,
        **{"occurred_at": occurred.isoformat(), "location": CAPITOLE_PLATFORM, **changes},
    )
    response = requests.post(
        f"{server.url}/api/v1/incidents",
        json=sheet,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA violations of the page as it is (none expected)."""
    if not AXE.is_file():
        message = f"axe-core is not at {AXE}: run `npm ci` (./dev test does)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # Evaluated through the devtools protocol: the page's CSP (no inline script) allows it.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']}))
              .violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target)}))"""
    )
    return found
