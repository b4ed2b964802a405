"""The operator's follow-up in a real browser: its list and statuses live, the history in
French without the police's internal detail, withdrawal while allowed, scopes, resumable
stream."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from intake_service.access.tokens import create_token
from intake_service.feed import outbox
from intake_service.platform.clock import PARIS
from intake_service.web import follow_up
from tests.e2e.conftest import LiveServer, screenshot
from tests.factories import a_sheet

CC_LABEL = "Pupitre 4 — brigadier Martin"  # the command centre's token label: never shown
CC_COMMENT = "Individu connu des services, conduit au commissariat central."
CALL_SIGN = "TV-31-ALPHA"


class Api:
    """The REST API of the live server, as an operator and as the command centre."""

    def __init__(self, server: LiveServer, tokens: dict[str, str]) -> None:
        self.url = server.url
        self.tokens = tokens
        self.count = 0
        self.submitted: dict[str, int] = {}

    def submit(self, as_: str = "tisseo", **changes: Any) -> dict[str, Any]:
        self.count += 1
        self.submitted[as_] = self.submitted.get(as_, 0) + 1
        now = dt.datetime.now(dt.UTC)
        sheet = a_sheet(
            f"SUIVI-{as_}-{self.count:03d}",
            occurred_at=(now - dt.timedelta(minutes=5)).isoformat(),
            location={
                "mode": 1,
                "place": "platform",
                "coordinates": {"lat": 43.60447, "lon": 1.44554, "accuracy_m": 10, "source": "gps"},
                # Tisséo's demo GTFS feed has this line and stop; Mistral's has not.
                **(
                    {"route_id": "demo:A", "stop_id": "demo:SA_capitole"} if as_ == "tisseo" else {}
                ),
            },
            video={
                "exists": "yes",
                "sources": ["station"],
                "erased_after": (now + dt.timedelta(days=7)).isoformat(),
            },
            **changes,
        )
        response = requests.post(
            f"{self.url}/api/v1/incidents", json=sheet, headers=self._auth(as_), timeout=10
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def status(self, incident_id: str, **body: Any) -> None:
        response = requests.post(
            f"{self.url}/api/v1/incidents/{incident_id}/status",
            json=body,
            headers=self._auth("ddsp-31"),
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def amend(self, incident_id: str, **patch: Any) -> None:
        response = requests.post(
            f"{self.url}/api/v1/incidents/{incident_id}/amendments",
            json=patch,
            headers=self._auth("tisseo"),
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def _auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Api:
    now = dt.datetime.now(dt.UTC)
    with live_server.app.extensions["intake.db"].transaction() as session:
        tokens = {
            "tisseo": create_token(session, "operator", "tisseo", "SAE Tisséo", now=now).secret,
            "mistral": create_token(session, "operator", "mistral", "SAE Mistral", now=now).secret,
            "ddsp-31": create_token(session, "command_centre", "ddsp-31", CC_LABEL, now=now).secret,
        }
    return Api(live_server, tokens)


@pytest.fixture
def operator_page(signed_in: Callable[[str], Any]) -> Any:
    return signed_in("agent@tisseo.test")


def _row(page: Any, incident_id: str) -> Any:
    return page.locator(f"#incident-{incident_id}")


def _connected(page: Any) -> None:
    expect(page.locator("#etat-connexion")).to_have_attribute("data-etat", "connecte")


def test_list_shows_the_operators_incidents_and_follows_them_live(
    operator_page: Any, api: Api, live_server: LiveServer
) -> None:
    first = api.submit()
    second = api.submit(state="over")
    theirs = api.submit("mistral")
    page = operator_page
    page.goto(f"{live_server.url}/operateur/incidents")
    expect(page.get_by_role("heading", name="Suivi des fiches")).to_be_visible()
    rows = page.locator("#fiches tbody tr")
    # Newest first; another operator's sheet is not there.
    expect(rows.first).to_have_attribute("data-id", second["id"])
    expect(_row(page, first["id"])).to_contain_text(first["operator_reference"])
    expect(_row(page, first["id"]).locator(".priorite.P1")).to_have_text("P1")
    expect(_row(page, first["id"])).to_contain_text("Agression physique d'agent")
    expect(_row(page, first["id"]).locator(".statut")).to_have_text("reçue")
    expect(_row(page, first["id"])).to_contain_text("DIPN 31")
    expect(_row(page, theirs["id"])).to_have_count(0)
    received = dt.datetime.fromisoformat(first["received_at"]).astimezone(PARIS)
    expect(_row(page, first["id"])).to_contain_text(f"{received:%d/%m/%Y à %-H h %M}")

    _connected(page)
    page.evaluate("window.pasRecharge = true")
    api.status(first["id"], status="acknowledged")
    expect(_row(page, first["id"]).locator(".statut")).to_have_text(
        "prise en compte", timeout=2_000
    )
    third = api.submit()
    expect(rows.first).to_have_attribute("data-id", third["id"], timeout=2_000)
    expect(_row(page, third["id"]).locator(".statut")).to_have_text("reçue")
    assert page.evaluate("window.pasRecharge") is True  # no reload happened
    screenshot(page, "follow-up")

    # Filters: by status and by priority.
    page.get_by_label("Statut").select_option("acknowledged")
    page.get_by_role("button", name="Filtrer").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", first["id"])
    page.goto(f"{live_server.url}/operateur/incidents?priorite=P4&statut=nimporte")
    expect(_row(page, first["id"])).to_have_count(0)


def test_pages_older_incidents_with_the_cursor(
    operator_page: Any, api: Api, live_server: LiveServer
) -> None:
    for _ in range(follow_up.PAGE_SIZE + 1 - api.submitted.get("tisseo", 0)):
        api.submit()
    page = operator_page
    page.goto(f"{live_server.url}/operateur/incidents")
    expect(page.locator("#fiches tbody tr")).to_have_count(follow_up.PAGE_SIZE)
    page.get_by_role("link", name="Plus ancien").click()
    expect(page.locator("#fiches tbody tr").first).to_be_visible()
    expect(page.get_by_role("link", name="Plus récentes")).to_be_visible()
    assert page.goto(f"{live_server.url}/operateur/incidents?curseur=pas-un-curseur").status == 400


def test_detail_tells_the_history_in_french_without_police_internals(
    operator_page: Any, api: Api, live_server: LiveServer
) -> None:
    incident = api.submit()
    page = operator_page
    page.goto(f"{live_server.url}/operateur/incidents/{incident['id']}")
    expect(page.locator("#statut-courant")).to_have_text("reçue")
    _connected(page)
    api.status(incident["id"], status="acknowledged")
    # The status part follows live, with its history.
    expect(page.locator("#historique")).to_contain_text(
        re.compile(r"Prise en compte par le centre d'information et de commandement à \d+ h \d\d")
    )
    api.status(incident["id"], status="dispatched", call_sign=CALL_SIGN)
    api.status(incident["id"], status="closed", outcome="arrest", comment=CC_COMMENT)
    expect(page.locator("#statut-courant")).to_have_text("clôturée")
    # An amendment (even after closing) is a new version: the page says so live.
    api.amend(
        incident["id"],
        narrative="Le conducteur est frappé ; l'auteur est parti vers la place du Capitole.",
        injuries={"count": 2},
    )
    expect(page.locator("#nouvelle-version")).to_be_visible(timeout=15_000)
    page.reload()
    expect(page.locator("#versions tbody tr").nth(1)).to_contain_text("Récit, Blessés")
    history = page.locator("#historique")
    expect(history).to_contain_text("Fiche reçue par le service à")
    expect(history).to_contain_text(re.compile(r"Patrouille engagée à \d+ h \d\d"))
    expect(history).to_contain_text("Clôturée : interpellation")
    expect(page.locator("#versions")).to_contain_text("Fiche envoyée")
    expect(page.locator("main")).to_contain_text("DIPN 31 — CSP Toulouse")
    expect(page.locator("main")).to_contain_text("ligne A · arrêt Capitole")
    screenshot(page, "follow-up-detail")
    text = page.locator("body").inner_text()
    for secret in (CC_LABEL, CC_COMMENT, CALL_SIGN, "token:"):
        assert secret not in text


def test_withdrawal_while_received_then_refused_once_acknowledged(
    operator_page: Any, api: Api, live_server: LiveServer
) -> None:
    page = operator_page
    mistaken = api.submit()
    page.goto(f"{live_server.url}/operateur/incidents/{mistaken['id']}")
    token = page.locator("#retrait input[name=csrf_token]").get_attribute("value")
    too_long = page.request.post(
        f"{live_server.url}/operateur/incidents/{mistaken['id']}/retrait",
        form={"csrf_token": token, "motif": "x" * 501},
    )
    assert too_long.status == 400
    assert "ne doit pas dépasser 500 caractères" in too_long.text()
    page.get_by_label("Motif (facultatif)").fill("Fiche envoyée en double par erreur.")
    page.get_by_role("button", name="Retirer la fiche").click()
    expect(page.get_by_role("status").filter(has_text="La fiche a été retirée")).to_be_visible()
    expect(page.locator("#statut-courant")).to_have_text("retirée")
    expect(page.locator("#historique")).to_contain_text("Retirée par votre service")
    expect(page.locator("#historique")).to_contain_text("Fiche envoyée en double par erreur.")
    expect(page.get_by_role("button", name="Retirer la fiche")).to_have_count(0)

    taken = api.submit()
    url = f"{live_server.url}/operateur/incidents/{taken['id']}"
    page.goto(url)
    expect(page.get_by_role("button", name="Retirer la fiche")).to_be_visible()
    token = page.locator("#retrait input[name=csrf_token]").get_attribute("value")
    _connected(page)
    api.status(taken["id"], status="acknowledged")
    # The form goes away live once the command centre has the sheet.
    expect(page.get_by_role("button", name="Retirer la fiche")).to_have_count(0)
    forged = page.request.post(f"{url}/retrait", form={"csrf_token": token, "motif": ""})
    assert forged.status == 409
    assert "elle ne peut plus être retirée, seulement complétée" in forged.text()
    assert "prise en compte" in forged.text()
    without_csrf = page.request.post(f"{url}/retrait", form={"motif": ""})
    assert without_csrf.status == 400


def test_another_operator_gets_404_and_the_command_centre_403(
    signed_in: Callable[[str], Any], api: Api, live_server: LiveServer
) -> None:
    incident = api.submit()
    url = f"{live_server.url}/operateur/incidents/{incident['id']}"
    other = signed_in("agent@mistral.test")
    assert other.goto(url).status == 404
    expect(other.get_by_role("heading", name="Page introuvable")).to_be_visible()
    token = other.locator("input[name=csrf_token]").first.get_attribute("value")
    assert other.request.post(f"{url}/retrait", form={"csrf_token": token}).status == 404
    assert other.goto(f"{live_server.url}/operateur/incidents/pas-un-id").status == 404
    police = signed_in("cic@ddsp31.test")
    assert police.goto(f"{live_server.url}/operateur/incidents").status == 403
    assert police.goto(f"{live_server.url}/operateur/flux").status == 403


def _events(
    live_server: LiveServer,
    cookies: dict[str, str],
    headers: dict[str, str],
    wanted: int,
    *,
    query: str = "",
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The first ``wanted`` events of the stream, as (id, data)."""
    with requests.get(
        f"{live_server.url}/operateur/flux?{query}",
        cookies=cookies,
        headers=headers,
        stream=True,
        timeout=5,
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["X-Accel-Buffering"] == "no"
        event_id = None
        seen = 0
        for raw in response.iter_lines(decode_unicode=True):
            line = raw if isinstance(raw, str) else raw.decode()
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                assert event_id is not None
                yield event_id, json.loads(line[6:])
                seen += 1
                if seen == wanted:
                    return


def test_stream_resumes_after_last_event_id(
    operator_page: Any, api: Api, live_server: LiveServer
) -> None:
    cookies = {c["name"]: c["value"] for c in operator_page.context.cookies()}
    theirs = api.submit("mistral")
    first = api.submit()
    api.status(first["id"], status="acknowledged")
    api.status(first["id"], status="dispatched", call_sign=CALL_SIGN)
    everything = list(_events(live_server, cookies, {"Last-Event-ID": "0"}, 3))
    ids = [event_id for event_id, _ in everything]
    assert ids == sorted(ids)
    assert all(data["id"] != theirs["id"] for _, data in everything)
    later = list(_events(live_server, cookies, {"Last-Event-ID": str(ids[0])}, 2))
    assert [event_id for event_id, _ in later] == ids[1:3]
    # The last events are this test's: submitted, acknowledged, dispatched.
    with live_server.app.extensions["intake.db"].transaction() as session:
        last = outbox.last_position(session)
    tail = list(_events(live_server, cookies, {"Last-Event-ID": str(last - 3)}, 3))
    assert [data["status"] for _, data in tail] == ["received", "acknowledged", "dispatched"]
    assert [data["type"] for _, data in tail] == [
        "incident.submitted",
        "incident.status_changed",
        "incident.status_changed",
    ]
    assert tail[0][1]["priority"] == "P1"
    assert {data["id"] for _, data in tail} == {first["id"]}
    for _, data in [*everything, *tail]:
        flat = json.dumps(data, ensure_ascii=False)
        for secret in (CC_LABEL, CALL_SIGN, "status_history", "author", "narrative"):
            assert secret not in flat
    # ``?apres=`` works too, the header wins over it.
    resumed = list(_events(live_server, cookies, {"Last-Event-ID": str(last - 1)}, 1))
    assert resumed[0][0] == last
    by_query = requests.get(
        f"{live_server.url}/operateur/flux?apres={last - 1}",
        cookies=cookies,
        stream=True,
        timeout=5,
    )
    with by_query:
        lines = by_query.iter_lines(decode_unicode=True)
        assert f"id: {last}" in [next(lines) for _ in range(4)]
