"""Browser fixtures: Debian's Chromium through Playwright's sync API, portal users with
passwords, signed-in browser contexts, a second `goldenpath up` when a test needs other
settings, and screenshots of the main pages under ``test-artifacts/screenshots``."""

from __future__ import annotations

import contextlib
import re
import secrets
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from psycopg import sql

from tests.e2e.conftest import (
    ADMIN_TOKEN,
    ADMIN_URL,
    STOP_TIMEOUT,
    Server,
    _free_port,
    _wait_until_healthy,
    clean_environment,
    make_user,
    start_up,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
PASSWORD = "portal-e2e-password"
TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class PortalUser:
    name: str
    team: str
    password: str = PASSWORD


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


def make_portal_user(server: Server, name: str, team: str, role: str = "developer") -> PortalUser:
    """A user of ``team`` with a portal password, made through the API as the admin."""
    make_user(server, name, team, role)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = httpx.put(
        f"{server.url}/api/v1/users/{name}/password",
        json={"password": PASSWORD},
        headers=admin,
        timeout=30,
    )
    assert response.status_code == 204, response.text
    return PortalUser(name=name, team=team)


@pytest.fixture(scope="session")
def developer(server: Server) -> PortalUser:
    return make_portal_user(server, "pat", "web")


@pytest.fixture
def open_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """New browser contexts (separate cookie jars) for a server, closed after the test."""
    made: list[BrowserContext] = []

    def make(server: Server, **options: Any) -> BrowserContext:
        context = browser.new_context(base_url=server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def sign_in(context: BrowserContext, user: PortalUser) -> Page:
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("User name").fill(user.name)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Golden paths")).to_be_visible()
    return page


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def csrf_token(page: Page) -> str:
    token = page.locator('input[name="_csrf"]').first.get_attribute("value")
    assert token
    return token


def field_errors(html: str, field: str) -> list[str]:
    """The error messages the server put next to one form field (``<field>-error``)."""
    found = re.findall(
        rf'<p class="field-error" id="{re.escape(field)}-error">(.*?)</p>', html, re.S
    )
    return [re.sub(r"<[^>]+>|⚠", "", message).strip() for message in found]


@contextlib.contextmanager
def second_server(
    root: Path,
    e2e_admin: psycopg.Connection[Any],
    *,
    up_options: tuple[str, ...] = (),
    **settings: str,
) -> Iterator[Server]:
    """Another `goldenpath up [up_options]`, on its own fresh database, with extra
    GOLDENPATH_ settings."""
    with up_and_process(root, e2e_admin, up_options=up_options, **settings) as (running, _):
        yield running


@contextlib.contextmanager
def up_and_process(
    root: Path,
    e2e_admin: psycopg.Connection[Any],
    *,
    up_options: tuple[str, ...] = (),
    **settings: str,
) -> Iterator[tuple[Server, subprocess.Popen[bytes]]]:
    """`second_server`, with its process (stopped at the end unless it has ended)."""
    name = f"gp_e2e_{secrets.token_hex(4)}"
    e2e_admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database_url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    port = _free_port()
    running = Server(
        url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        data_dir=root / "data",
        log=root / "server.log",
    )
    env = clean_environment(
        GOLDENPATH_DATABASE_URL=database_url,
        GOLDENPATH_DATA_DIR=str(running.data_dir),
        GOLDENPATH_BOOTSTRAP_TOKEN=ADMIN_TOKEN,
        **{f"GOLDENPATH_{key.upper()}": value for key, value in settings.items()},
    )
    process = start_up(running, root, env, "--port", str(port), *up_options)
    try:
        _wait_until_healthy(running, process)
        yield running, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        e2e_admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
