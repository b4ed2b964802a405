"""Signing in and out of the pages, in a real browser; lock-out; CSRF; security headers."""

from __future__ import annotations

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


def test_wrong_password_then_lock_out(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    for _ in range(5):
        page.goto(f"{live_server.url}/connexion")
        page.get_by_label("Adresse électronique").fill("agent@mistral.test")
        page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
        page.get_by_role("button", name="Se connecter").click()
    assert "verrouillé" in page.get_by_role("alert").inner_text()
    # Even the right password is refused while locked.
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    assert "verrouillé" in page.get_by_role("alert").inner_text()
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
