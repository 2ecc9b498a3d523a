"""On a second server with the test templates: a medium database, which the starter guardrails
deny on the platform's own PostgreSQL server, becomes an exception that an approver grants from
their own browser; and a slow request's steps change on the page while it runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.browser.conftest import (
    PortalUser,
    make_portal_user,
    screenshot,
    sign_in,
)
from tests.e2e.conftest import Server, exists_in_postgres


@pytest.fixture(scope="module")
def requester(templates_server: Server) -> PortalUser:
    return make_portal_user(templates_server, "robin", "shop")


@pytest.fixture(scope="module")
def approver(templates_server: Server, requester: PortalUser) -> PortalUser:
    return make_portal_user(templates_server, "alex", requester.team, role="approver")


def test_a_denied_request_becomes_an_exception_that_an_approver_grants(
    templates_server: Server,
    requester: PortalUser,
    approver: PortalUser,
    open_context: Callable[..., BrowserContext],
    new_name: Callable[[], str],
    e2e_admin: psycopg.Connection[Any],
) -> None:
    name = new_name()
    page = sign_in(open_context(templates_server), requester)
    page.goto("/paths/postgres-database")
    page.get_by_label("Database name").fill(name)
    page.get_by_label("medium").check()
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Guardrails: denied")).to_be_visible()
    expect(page.locator(".violations")).to_contain_text(
        "database_sizes.rego postgres:database." + name + " is a medium database"
    )
    justification = page.get_by_label("Justification")
    justification.fill("Black Friday load test; small cannot hold 50 connections.")
    screenshot(page, "preview-denied")
    page.get_by_role("button", name="Request an exception").click()

    expect(page).to_have_url(re.compile(r"/requests/[0-9a-f-]{36}$"))
    request_url = page.url
    expect(page.locator("#request-status")).to_have_text("pending approval")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # never one's own
    assert not exists_in_postgres(e2e_admin, name)["database"]

    lead = sign_in(open_context(templates_server), approver)
    lead.get_by_role("link", name="Approvals").click()
    waiting = lead.locator("article.approval", has_text="Black Friday load test")
    expect(waiting).to_contain_text("database_sizes.rego")
    screenshot(lead, "approvals")
    waiting.get_by_label("Comment").fill("OK until Monday.")
    waiting.get_by_role("button", name="Approve").click()
    expect(lead.locator("#request-status")).not_to_have_text("pending approval")
    expect(lead.get_by_text("Decided by alex: “OK until Monday.”")).to_be_visible()

    page.goto(request_url)
    expect(page.locator("#request-status")).to_have_text("succeeded", timeout=60_000)
    assert exists_in_postgres(e2e_admin, name) == {"role": True, "database": True}


def test_steps_change_on_the_page_while_the_request_runs(
    templates_server: Server,
    requester: PortalUser,
    open_context: Callable[..., BrowserContext],
    new_name: Callable[[], str],
) -> None:
    page = sign_in(open_context(templates_server), requester)
    page.goto("/paths/slow-database")
    page.get_by_label("Name").fill(new_name())
    page.get_by_label("Pause").fill("3")
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(re.compile(r"/requests/[0-9a-f-]{36}$"))
    page.evaluate("window.stillTheSamePage = true")

    pause = page.locator('[data-step="pause"]')
    expect(pause.locator(".step-status")).to_have_text("running", timeout=15_000)
    expect(pause).to_have_attribute("data-live", "true")  # changed by an event, not a reload
    expect(page.locator("#log")).to_contain_text("created database")
    expect(page.locator("#request-status")).to_have_text("succeeded", timeout=30_000)
    expect(page.locator('[data-step="token"] .step-status')).to_have_text("succeeded")
    assert page.evaluate("window.stillTheSamePage") is True
