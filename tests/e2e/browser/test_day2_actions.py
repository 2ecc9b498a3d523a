"""Day 2 in a real browser: a database that expires in two days shows the expiry banner on the
list and its page and is extended in one click; its **Rotate the password** button runs a
day-2 request whose page follows it and reveals the new DSN. (The e2e platform's PostgreSQL
trusts local logins: tests/integration/test_day2_actions.py checks the old password is refused.)"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import BrowserContext, expect

from tests.e2e.browser.conftest import PASSWORD, PortalUser, screenshot, sign_in
from tests.e2e.browser.test_impact_page import finished
from tests.e2e.conftest import ADMIN_TOKEN, Server, make_user


def test_the_expiry_banner_extends_and_the_rotate_button_runs_a_day2_request(
    server: Server,
    open_context: Callable[..., BrowserContext],
    new_name: Callable[[], str],
) -> None:
    token = make_user(server, "rota", "rotators")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    set_password = httpx.put(
        f"{server.url}/api/v1/users/rota/password",
        json={"password": PASSWORD},
        headers=admin,
        timeout=30,
    )
    assert set_password.status_code == 204, set_password.text
    name = new_name()
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as api:
        made = api.post(
            "/api/v1/requests",
            json={"template": "postgres-database", "parameters": {"name": name}, "ttl": "2d"},
        )
        assert made.status_code == 202, made.text
        request_id = made.json()["id"]
        final = finished(api, request_id)
        assert final["status"] == "succeeded", final
        [resource] = [r for r in api.get("/api/v1/resources").json()["items"] if r["name"] == name]

    page = sign_in(open_context(server), PortalUser(name="rota", team="rotators"))
    page.get_by_role("link", name="My resources").click()
    banner = page.locator(f'[data-expiring="{resource["id"]}"]')
    expect(banner).to_contain_text(f"{name} expires")
    page.locator(f'tr[data-resource="{name}"]').get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(banner).to_be_visible()
    screenshot(page, "resource-day2")
    banner.get_by_role("button", name="Extend by 7d").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator(f'[data-expiring="{resource["id"]}"]')).to_have_count(0)

    page.get_by_role("button", name="Rotate the password").click()
    expect(page).to_have_url(re.compile(r"/requests/[0-9a-f-]{36}$"))
    expect(page.locator("code.kind")).to_have_text("day2:rotate-password")
    expect(page.locator("#request-status")).to_have_text("succeeded")
    page.get_by_role("button", name="Reveal secrets").click()
    dsn = page.locator('[data-secret="dsn"]').inner_text()
    assert dsn.startswith("postgresql://") and name in dsn
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as api:
        assert api.delete(f"/api/v1/resources/{resource['id']}").status_code == 202
