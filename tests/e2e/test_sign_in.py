"""Signing in and out of the pages, in a real browser; failures; CSRF; security headers."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.e2e.conftest import PASSWORD, LiveServer


def test_sign_in_page_is_accessible_and_strict(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    response = page.goto(f"{live_server.url}/connexion")
    assert response is not None
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_label("Adresse électronique").is_visible()
    assert page.get_by_label("Mot de passe").is_visible()
    context.close()


def test_a_copied_cookie_is_refused_once_signed_out(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/connexion")
    page.get_by_label("Adresse électronique").fill("cic@ddsp83.test")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("networkidle")
    cookie = next(c for c in context.cookies() if c["name"] == "intake_session")
    copy = {"intake_session": cookie["value"]}
    console = f"{live_server.url}/console/"
    assert requests.get(console, cookies=copy, allow_redirects=False, timeout=10).status_code == 200
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state("networkidle")
    refused = requests.get(console, cookies=copy, allow_redirects=False, timeout=10)
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/connexion")
    context.close()


def test_failures_all_read_the_same_and_lock_nobody_out(
    browser: Any, live_server: LiveServer
) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()

    def attempt(email: str, password: str) -> str:
        page.goto(f"{live_server.url}/connexion")
        page.get_by_label("Adresse électronique").fill(email)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        return str(page.get_by_role("alert").inner_text())

    unknown = attempt("personne@mistral.test", "pas le bon mot de passe")
    assert "incorrect" in unknown
    for _ in range(4):
        assert attempt("agent@mistral.test", "pas le bon mot de passe") == unknown
    assert "verrouillé" not in unknown
    # Five failures from this address: the next attempt waits a second, then is checked.
    time.sleep(1.2)
    page.goto(f"{live_server.url}/connexion")
    page.get_by_label("Adresse électronique").fill("agent@mistral.test")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("networkidle")
    assert "/connexion" not in page.url
    context.close()


def test_a_form_post_without_csrf_token_is_refused(live_server: LiveServer) -> None:
    response = requests.post(
        f"{live_server.url}/connexion",
        data={"email": "agent@tisseo.test", "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 400
    assert "formulaire a expiré" in response.text
    assert "Set-Cookie" not in response.headers or "intake_session" not in response.headers.get(
        "Set-Cookie", ""
    )


def test_unknown_page_is_a_french_404(live_server: LiveServer) -> None:
    response = requests.get(f"{live_server.url}/nulle-part", timeout=10)
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert response.headers["Content-Type"].startswith("text/html")
