"""The API's docs page renders the OpenAPI 3.1 document in Chromium, from vendored files."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer


def test_the_docs_page_renders_the_operations_offline(
    browser: Any, live_server: LiveServer
) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else elsewhere.append(request.url)
        ),
    )
    page.goto(f"{live_server.url}/api/v1/docs")
    # Swagger UI 4 refused a 3.1 document ("Unable to render this definition").
    expect(
        page.locator(".opblock-summary-path").filter(has_text="/api/v1/incidents").first
    ).to_be_visible()
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    assert elsewhere == []  # no CDN, no telemetry
    context.close()
