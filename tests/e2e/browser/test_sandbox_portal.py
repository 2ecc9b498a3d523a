"""The sandbox in the portal: every page says SANDBOX, and all 8 starter paths are requested
through their forms, succeed on the stand-ins, and are destroyed from their resource pages,
leaving nothing behind in moto, the databases, Redis or the repositories."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.browser.conftest import make_portal_user, screenshot, sign_in
from tests.e2e.conftest import NAME_PREFIX, Server, exists_in_postgres
from tests.e2e.sandbox_support import (
    aws_client,
    buckets,
    mysql_has,
    redis_user,
    sealed_keys,
    sweep_leftovers,
)

TEAM = "sbxweb"
RUN_MS = 90_000
BANNER = "SANDBOX — local stand-ins, not production"


@pytest.fixture(scope="module", autouse=True)
def _swept() -> Iterator[None]:
    yield
    sweep_leftovers()


def sandbox_banner(page: Page) -> None:
    expect(page.get_by_role("note", name="Sandbox")).to_contain_text(BANNER)


def test_every_starter_path_through_the_portal_in_the_sandbox(
    sandbox_server: Server,
    open_context: Callable[..., BrowserContext],
    e2e_admin: psycopg.Connection[Any],
) -> None:
    user = make_portal_user(sandbox_server, "sbxpat", TEAM)
    context = open_context(sandbox_server)
    login = context.new_page()
    login.goto("/login")
    sandbox_banner(login)  # even before signing in
    login.close()
    page = sign_in(context, user)
    sandbox_banner(page)
    expect(page.locator("li.card", has_text="EC2")).not_to_contain_text("Needs setup")
    screenshot(page, "sandbox-catalog")

    stem = NAME_PREFIX + secrets.token_hex(3)
    dashed = stem.replace("_", "-")
    repo = f"{dashed}-web"
    forms: dict[str, dict[str, str]] = {
        "postgres-database": {"name": stem + "pg"},
        "mysql-database": {"name": stem + "my"},
        "redis": {"name": stem + "rd"},
        "s3-bucket": {"name": dashed + "-bucket", "cost_center": "cc-1"},
        "ec2-instance": {"name": dashed + "-vm", "cost_center": "cc-1"},
        "new-repo": {"name": repo},
        "ci-secret": {"repository": f"local/{repo}", "name": "API_KEY", "value": "s3cret-value"},
        "service-onboarding": {"name": dashed + "-svc", "owner": TEAM},
    }
    kept_before = sealed_keys(sandbox_server)
    for path, fields in forms.items():
        page.goto(f"/paths/{path}")
        sandbox_banner(page)
        for name, value in fields.items():
            page.locator(f"#f-{name}").fill(value)
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("heading", name="Guardrails: allowed")).to_be_visible()
        sandbox_banner(page)
        if path == "ci-secret":  # secret values are typed again, never put back in a page
            page.locator("#f-value").fill(fields["value"])
        page.get_by_role("button", name="Submit request").click()
        expect(page).to_have_url(re.compile(r"/requests/[0-9a-f-]{36}$"))
        # EC2 waits for the instance to run; Terraform starts a process.
        expect(page.locator("#request-status")).to_have_text("succeeded", timeout=RUN_MS)
        sandbox_banner(page)
    screenshot(page, "sandbox-request")

    ec2 = aws_client(sandbox_server, "ec2")
    s3 = aws_client(sandbox_server, "s3")
    assert dashed + "-bucket" in buckets(s3)
    assert _instances(ec2, dashed + "-vm") == ["running"]
    assert exists_in_postgres(e2e_admin, stem + "pg")["database"]
    assert mysql_has(stem + "my") == (True, True)
    assert redis_user(stem + "rd") is not None
    repo_dir = sandbox_server.data_dir / "git" / f"{repo}.git"
    assert repo_dir.is_dir()

    # Destroy each from its page, newest first (the secret before its repository).
    page.get_by_role("link", name="My resources").click()
    sandbox_banner(page)
    names = page.locator("tr[data-resource]").evaluate_all(
        "rows => rows.map(r => r.dataset.resource)"
    )
    assert len(names) == 8
    for name in names:
        page.goto("/resources")
        page.locator(f'tr[data-resource="{name}"]').get_by_role(
            "link", name=name, exact=True
        ).click()
        page.get_by_role("link", name="Destroy…").click()
        page.get_by_role("button", name=f"Yes, destroy {name}").click()
        expect(page.locator("#resource-state")).to_have_text("destroyed", timeout=RUN_MS)

    assert dashed + "-bucket" not in buckets(s3)
    assert _instances(ec2, dashed + "-vm") == ["terminated"]
    assert exists_in_postgres(e2e_admin, stem + "pg") == {"role": False, "database": False}
    assert mysql_has(stem + "my") == (False, False)
    assert redis_user(stem + "rd") is None
    assert not repo_dir.exists()
    # Only the Terraform workspace's state stays (managing nothing; the CLI test reads it).
    assert sealed_keys(sandbox_server) - kept_before == {f"svc-{dashed}-svc"}


def _instances(ec2: Any, name: str) -> list[str]:
    found = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])
    return [i["State"]["Name"] for r in found["Reservations"] for i in r["Instances"]]
