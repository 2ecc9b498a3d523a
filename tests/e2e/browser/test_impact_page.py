"""The admins' upgrade-impact page in a real browser: version 1.0.0 of versioned-db made five
databases; the page shows what 2.0.0 would do (3 updates, 2 denied by its new guardrail, each
with its owner team and reason) and its button starts the rollout of the three."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.browser.conftest import (
    PASSWORD,
    PortalUser,
    make_portal_user,
    screenshot,
    second_server,
    sign_in,
)
from tests.e2e.conftest import ADMIN_TOKEN, Server, make_user
from tests.integration.upgrade_support import limits, write_version


@pytest.fixture(scope="module")
def versioned_server(
    tmp_path_factory: pytest.TempPathFactory, e2e_admin: psycopg.Connection[Any]
) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("impact-page")
    folder = root / "templates"
    folder.mkdir()
    write_version(folder, "1.0.0", 10)
    write_version(folder, "2.0.0", 15, guardrail=True)
    with second_server(root, e2e_admin, template_dirs=str(folder)) as running:
        yield running


def portal_admin(server: Server, name: str) -> PortalUser:
    """A platform admin with a portal password, made through the API by the bootstrap admin."""
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as api:
        made = api.post("/api/v1/users", json={"name": name, "is_admin": True})
        assert made.status_code == 201, made.text
        password = api.put(f"/api/v1/users/{name}/password", json={"password": PASSWORD})
        assert password.status_code == 204, password.text
    return PortalUser(name=name, team="")


def finished(api: httpx.Client, request_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, Any] = api.get(f"/api/v1/requests/{request_id}").json()
        if found["status"] in ("succeeded", "failed", "cancelled", "rejected"):
            return found
        assert time.monotonic() < deadline, f"request {request_id} still {found['status']}"
        time.sleep(0.2)


def test_the_impact_page_groups_the_outcomes_and_starts_the_rollout(
    versioned_server: Server,
    open_context: Callable[..., BrowserContext],
    new_name: Callable[[], str],
    e2e_admin: psycopg.Connection[Any],
) -> None:
    token = make_user(versioned_server, "ivy", "payments")
    tiers = {new_name(): "standard" for _ in range(3)} | {new_name(): "legacy" for _ in range(2)}
    with httpx.Client(
        base_url=versioned_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as api:
        for name, tier in tiers.items():
            made = api.post(
                "/api/v1/requests",
                json={
                    "template": "versioned-db",
                    "version": "1.0.0",
                    "parameters": {"name": name, "tier": tier},
                },
            )
            assert made.status_code == 202, made.text
            assert finished(api, made.json()["id"])["status"] == "succeeded"

        developer = make_portal_user(versioned_server, "ike", "payments")
        refused = sign_in(open_context(versioned_server), developer)
        answer = refused.goto("/admin/impact?target=versioned-db@2.0.0")
        assert answer is not None and answer.status == 403
        expect(refused.get_by_text("only a platform-admin may do identity.manage")).to_be_visible()
        expect(refused.locator("#impact")).to_have_count(0)

        admin = portal_admin(versioned_server, "ada")
        page = sign_in(open_context(versioned_server), admin)
        page.goto("/admin/impact")
        page.get_by_label("Golden path and version").select_option("versioned-db@2.0.0")
        page.get_by_role("button", name="Show the impact").click()

        impact = page.locator("#impact")
        expect(impact.locator(".count-update")).to_have_text("3 update")
        expect(impact.locator(".count-denied")).to_have_text("2 denied")
        denied = impact.locator('table[data-outcome="denied"] tbody tr')
        expect(denied).to_have_count(2)
        updated = impact.locator('table[data-outcome="update"] tbody tr')
        expect(updated).to_have_count(3)
        for name, tier in tiers.items():
            row = impact.locator("tbody tr", has_text=name)
            expect(row).to_contain_text("payments")
            expect(row).to_contain_text("1.0.0")
            reason = (
                f"{name}: the legacy tier is gone in 2.0.0"
                if tier == "legacy"
                else "connection_limit: 10 -> 15"
            )
            expect(row).to_contain_text(reason)
        screenshot(page, "upgrade-impact")
        assert all(limits(e2e_admin, name) == (10, 10) for name in tiers)  # showing changes nothing

        page.get_by_role("button", name="Start the rollout of 3 in-place upgrades").click()
        started = page.locator("#rollout-started")
        expect(started).to_contain_text("Rollout to 2.0.0 started: 3 upgrades queued")
        for name in tiers:
            expect(started).to_contain_text(name)
        links = started.locator("ul").first.get_by_role("link")
        expect(links).to_have_count(3)
        upgrade_ids = [
            str(href).rsplit("/", 1)[1]
            for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
        ]
        screenshot(page, "upgrade-rollout-started")
        for request_id in upgrade_ids:
            assert finished(api, request_id)["status"] == "succeeded"
    for name, tier in tiers.items():
        assert limits(e2e_admin, name) == ((10, 10) if tier == "legacy" else (15, 15))
