"""With JavaScript off the portal still works: plain forms, and a page that refreshes itself
while the request runs."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.e2e.browser.conftest import PortalUser, sign_in
from tests.e2e.conftest import Server


def test_the_request_flow_works_without_javascript(
    server: Server,
    developer: PortalUser,
    open_context: Callable[..., BrowserContext],
    new_name: Callable[[], str],
) -> None:
    name = new_name()
    page = sign_in(open_context(server, java_script_enabled=False), developer)
    page.get_by_role("link", name="PostgreSQL database").click()
    page.get_by_label("Database name").fill(name)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Guardrails: allowed")).to_be_visible()
    page.get_by_role("button", name="Submit request").click()

    expect(page).to_have_url(re.compile(r"/requests/[0-9a-f-]{36}$"))
    # Until it is finished, the page refreshes itself (a <noscript> meta refresh).
    expect(page.locator("#request-status")).to_have_text("succeeded", timeout=30_000)
    expect(page.locator("#outputs")).to_contain_text(name)
    page.get_by_role("button", name="Reveal secrets").click()
    expect(page.locator('[data-secret="dsn"]')).to_contain_text(f"/{name}")
