"""Forms generated from the templates' JSON Schemas: patterns the browser can use, fields that
appear when they apply, and values forced past the browser that the server still refuses."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import BrowserContext, expect

from tests.e2e.browser.conftest import PortalUser, csrf_token, field_errors, sign_in
from tests.e2e.conftest import Server

NAME_RULE = "must be 3-31 lower-case letters, digits or _, starting with a letter"


def test_every_pattern_compiles_in_the_browser(
    server: Server, developer: PortalUser, open_context: Callable[..., BrowserContext]
) -> None:
    page = sign_in(open_context(server), developer)
    paths = page.locator("li.card h2 a").evaluate_all("links => links.map(a => a.pathname)")
    assert len(paths) >= 8
    for path in paths:
        page.goto(path)
        broken = page.evaluate(
            """() => [...document.querySelectorAll('input[pattern]')].filter(input => {
                try { new RegExp('^(?:' + input.pattern + ')$', 'v'); return false; }
                catch (e) { return true; } }).map(input => input.name)"""
        )
        assert broken == [], f"{path}: the browser cannot compile the pattern of {broken}"
    page.goto("/paths/postgres-database")
    name = page.get_by_label("Database name")
    for value, valid in (("orders", True), ("X;", False), ("a'b", False), ("ab", False)):
        name.fill(value)
        assert name.evaluate("input => input.validity.valid") is valid, value


def test_a_field_appears_only_when_it_applies(
    server: Server, developer: PortalUser, open_context: Callable[..., BrowserContext]
) -> None:
    page = sign_in(open_context(server), developer)
    page.goto("/paths/ci-secret")
    value = page.get_by_label(re.compile(r"^Value"))
    expect(value).to_be_visible()
    expect(value).to_have_attribute("type", "password")
    expect(value).to_have_attribute("required", "")
    page.get_by_label("Generate a random value").check()
    expect(value).to_be_hidden()
    expect(value).to_be_disabled()  # so it is not sent
    page.get_by_label("Generate a random value").uncheck()
    expect(value).to_be_visible()

    without_js = open_context(server, java_script_enabled=False)
    plain = sign_in(without_js, developer)
    plain.goto("/paths/ci-secret")
    expect(
        plain.get_by_label(re.compile(r"^Value"))
    ).to_be_visible()  # every field shows without JS
    expect(plain.get_by_label("Generate a random value")).to_be_visible()


def test_values_forced_past_the_browser_are_refused_by_the_server(
    server: Server, developer: PortalUser, open_context: Callable[..., BrowserContext]
) -> None:
    page = sign_in(open_context(server), developer)
    page.goto("/paths/postgres-database")
    token = csrf_token(page)
    preview = "/paths/postgres-database/preview"

    huge = page.request.post(preview, form={"_csrf": token, "name": "fine_name", "size": "huge"})
    assert huge.status == 422
    assert field_errors(huge.text(), "size") == ["must be one of: small, medium"]
    assert 'value="fine_name"' in huge.text()  # what was typed is kept

    quoted = "x'); drop table t;--"
    injected = page.request.post(preview, form={"_csrf": token, "name": quoted})
    assert injected.status == 422
    assert field_errors(injected.text(), "name") == [NAME_RULE]

    extra = page.request.post(preview, form={"_csrf": token, "name": "fine_name", "owner": "x"})
    assert extra.status == 422
    assert "owner: is not a parameter of this golden path" in extra.text()

    stale = page.request.post(preview, form={"_csrf": "forged", "name": "fine_name"})
    assert stale.status == 403
    assert "This form has expired or did not come from this site" in stale.text()

    # The session cookie reads the API (the page's live events) but never changes anything.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert httpx.get(f"{server.url}/api/v1/templates", cookies=cookies).status_code == 200
    write = httpx.post(
        f"{server.url}/api/v1/requests",
        json={"template": "postgres-database", "parameters": {"name": "fine_name"}},
        cookies=cookies,
    )
    assert write.status_code == 401
