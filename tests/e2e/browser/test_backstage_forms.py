"""Backstage templates in the portal: the four pages with their page-level conditions, and the
dependencies/oneOf branch whose fields appear only when picked; the server asks only for the
picked branch's fields, and the request runs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.browser.conftest import make_portal_user, screenshot, second_server, sign_in
from tests.e2e.conftest import Server

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "backstage"


@pytest.fixture(scope="module")
def backstage_server(
    e2e_admin: psycopg.Connection[Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("backstage-portal")
    with second_server(root, e2e_admin, template_dirs=str(FIXTURES)) as running:
        yield running


def test_four_pages_show_only_the_picked_cloud_and_the_request_runs(
    backstage_server: Server, open_context: Callable[..., BrowserContext]
) -> None:
    user = make_portal_user(backstage_server, "bs-pat", "bs-web")
    page = sign_in(open_context(backstage_server), user)
    page.goto("/paths/cloud-account-bs")
    for title in ("Basics", "AWS", "GCP", "Azure"):
        expect(page.get_by_role("group", name=title)).to_be_visible()
    expect(page.get_by_label("Name")).to_be_focused()  # ui:autofocus
    expect(page.locator('[data-field="name"] .help')).to_contain_text("Letters, digits")
    aws_region = page.locator('[data-field="awsRegion"]')
    gcp_project = page.locator('[data-field="gcpProject"]')

    page.get_by_label("Amazon Web Services").check()  # enumNames as the radio labels
    expect(aws_region).to_be_visible()
    expect(gcp_project).to_be_hidden()
    page.get_by_label("Google Cloud").check()
    expect(gcp_project).to_be_visible()
    expect(aws_region).to_be_hidden()
    expect(page.locator('[data-field="azureSubscription"]')).to_be_hidden()
    screenshot(page, "backstage-four-pages")

    # Past the browser's checks, the server asks for GCP's field only.
    page.get_by_label("Name").fill("ledger")
    page.evaluate("document.querySelector('form.request-form').noValidate = true")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('[data-field="gcpProject"] .field-error')).to_contain_text("required")
    expect(page.locator('[data-field="awsRegion"] .field-error')).to_have_count(0)
    expect(page.locator('[data-field="azureSubscription"] .field-error')).to_have_count(0)

    page.get_by_label("GCP project").fill("proj-123")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Guardrails: allowed")).to_be_visible()
    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_url(re.compile(r"/requests/[0-9a-f-]{36}$"))
    expect(page.locator("#request-status")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator('[data-step="gcp"] .step-status')).to_have_text("succeeded")
    expect(page.locator('[data-step="aws"] .step-status')).to_have_text("skipped")
    expect(page.locator("#outputs")).to_contain_text("Account ledger is on gcp.")


def test_a_one_of_branch_asks_only_for_its_own_fields(
    backstage_server: Server, open_context: Callable[..., BrowserContext]
) -> None:
    user = make_portal_user(backstage_server, "bs-kim", "bs-web")
    page = sign_in(open_context(backstage_server), user)
    page.goto("/paths/cloud-bucket-bs")
    aws_region = page.locator('[data-field="awsRegion"]')
    gcp_project = page.locator('[data-field="gcpProject"]')
    page.get_by_label("aws", exact=True).check()
    expect(aws_region).to_be_visible()
    expect(gcp_project).to_be_hidden()
    page.get_by_label("Name").fill("orders")
    page.evaluate("document.querySelector('form.request-form').noValidate = true")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('[data-field="awsRegion"] .field-error')).to_contain_text("required")
    expect(page.locator('[data-field="gcpProject"] .field-error')).to_have_count(0)


def test_pickers_and_loops_render_as_plain_fields(
    backstage_server: Server, open_context: Callable[..., BrowserContext]
) -> None:
    user = make_portal_user(backstage_server, "bs-lee", "bs-web")
    page = sign_in(open_context(backstage_server), user)
    page.goto("/paths/bs-service")
    expect(page.get_by_label("Name")).to_be_focused()
    owner = page.get_by_label("Owner")
    expect(owner.locator("option", has_text="bs-web")).to_have_attribute(
        "value", "group:default/bs-web"
    )
    repo_url = page.get_by_label("Repository Location")
    broken = repo_url.evaluate(
        "input => { try { new RegExp('^(?:' + input.pattern + ')$', 'v'); return false; }"
        " catch (e) { return true; } }"
    )
    assert broken is False
    for value, valid in (
        ("github.com?owner=acme&repo=orders", True),
        ("github.com?owner=evil&repo=orders", False),
        ("gitlab.com?owner=acme&repo=orders", False),
    ):
        repo_url.fill(value)
        assert repo_url.evaluate("input => input.validity.valid") is valid, value

    page.goto("/paths/loop-bs")
    page.get_by_label("List of things").fill("apple\npear")
    page.get_by_label("Services").fill('[{"name": "api", "port": 8080}]')
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Guardrails: allowed")).to_be_visible()
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#request-status")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("#outputs")).to_contain_text("contents: apple! contents: pear!")
    expect(page.locator("#outputs")).to_contain_text("0: api on 8080")
