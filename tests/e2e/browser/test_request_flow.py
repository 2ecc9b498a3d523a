"""A developer's day in the portal: find the PostgreSQL path, get the form wrong then right,
preview, submit, watch it run, reveal the DSN, and destroy the database again."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import psycopg
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.browser.conftest import PortalUser, screenshot, sign_in
from tests.e2e.conftest import Server, exists_in_postgres

NAME_RULE = "must be 3-31 lower-case letters, digits or _, starting with a letter"


def test_request_a_database_watch_it_reveal_the_dsn_and_destroy_it(
    server: Server,
    developer: PortalUser,
    open_context: Callable[..., BrowserContext],
    new_name: Callable[[], str],
    e2e_admin: psycopg.Connection[Any],
) -> None:
    page = sign_in(open_context(server), developer)
    name = new_name()

    # The catalog: cards with cost and the ticket each path replaces; search is server-side.
    card = page.locator("li.card", has_text="PostgreSQL database")
    expect(card).to_contain_text("$15.00/month")
    expect(card).to_contain_text("Provision a database")
    # A path whose backend is not configured says so in the catalog, instead of failing later.
    ec2 = page.locator("li.card", has_text="EC2")
    expect(ec2).to_contain_text("Needs setup")
    expect(ec2).to_contain_text("not available yet: ask your platform team")
    expect(card).not_to_contain_text("Needs setup")
    screenshot(page, "catalog")
    page.get_by_placeholder(re.compile("Search")).fill("postgres")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("li.card", has_text="Redis")).to_have_count(0)
    expect(card).to_be_visible()
    page.get_by_role("link", name="PostgreSQL database").click()
    expect(page.get_by_role("heading", name="PostgreSQL database")).to_be_visible()
    expect(page.get_by_role("group", name="Database")).to_be_visible()  # the form page

    # Wrong: the browser stops it, with the template's own message next to the field...
    name_field = page.get_by_label("Database name")
    name_field.fill("X;")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#name-client-error")).to_have_text(f"⚠ {NAME_RULE}")
    expect(name_field).to_have_value("X;")
    expect(page).to_have_url(re.compile(r"/paths/postgres-database$"))

    # ...and the server too, when the browser's checks are bypassed.
    page.evaluate("document.querySelector('form.request-form').noValidate = true")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('[data-field="name"] .field-error')).to_have_text(f"⚠ {NAME_RULE}")
    expect(page.get_by_role("alert")).to_contain_text("The request was not accepted")
    expect(page.get_by_label("Database name")).to_have_value("X;")
    screenshot(page, "form-with-errors")

    # Right: preview what would be created, then submit.
    page.get_by_label("Database name").fill(name)
    page.get_by_label("small").check()
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Guardrails: allowed")).to_be_visible()
    planned = page.locator(f'tr[data-resource="{name}"]')
    expect(planned).to_contain_text("postgres:database")
    expect(planned).to_contain_text("postgres")
    expect(planned).to_contain_text("connection_limit")
    assert not exists_in_postgres(e2e_admin, name)["database"]
    screenshot(page, "preview")
    page.get_by_role("button", name="Submit request").click()

    # The request page follows the run through Server-Sent Events, without reloading.
    expect(page).to_have_url(re.compile(r"/requests/[0-9a-f-]{36}$"))
    page.evaluate("window.stillTheSamePage = true")
    step = page.locator('[data-step="db"] .step-status')
    expect(step).to_have_text("succeeded")
    expect(page.locator("#request-status")).to_have_text("succeeded")
    expect(page.locator("#outputs")).to_contain_text(name)
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "request-succeeded")

    # Secrets only on an explicit click, audited, in a page that is not cached.
    assert "postgresql://" not in page.content()
    with page.expect_response(re.compile(r"/secrets$")) as revealed:
        page.get_by_role("button", name="Reveal secrets").click()
    assert revealed.value.headers["cache-control"] == "no-store"
    dsn = page.locator('[data-secret="dsn"]').inner_text()
    assert dsn.startswith("postgresql://") and name in dsn
    with psycopg.connect(dsn, connect_timeout=10) as conn:
        assert conn.execute("select current_database()").fetchone() == (name,)

    # My resources → the resource → destroy, behind a confirmation page.
    page.get_by_role("link", name="My resources").click()
    row = page.locator(f'tr[data-resource="{name}"]')
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("$15")
    screenshot(page, "resources")
    row.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator(".kv").first).to_contain_text(name)  # its outputs
    page.get_by_role("link", name="Destroy…").click()
    expect(page.get_by_role("heading", name=f"Destroy {name}?")).to_be_visible()
    page.get_by_role("button", name=f"Yes, destroy {name}").click()
    expect(page.locator("#resource-state")).to_have_text("destroyed")
    assert exists_in_postgres(e2e_admin, name) == {"role": False, "database": False}


def test_sign_in_is_required_and_a_wrong_password_is_refused(
    server: Server, developer: PortalUser, open_context: Callable[..., BrowserContext]
) -> None:
    page: Page = open_context(server).new_page()
    page.goto("/resources")
    expect(page).to_have_url(re.compile(r"/login\?next=/resources$"))
    page.get_by_label("User name").fill(developer.name)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    page.get_by_label("Password").fill(developer.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/resources$"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "gp_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/resources")
    expect(page).to_have_url(re.compile(r"/login\?next="))
