"""The Insights page in Chromium: an approver sees the server-drawn SVG charts; the standalone
HTML report opens with the network blocked."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, Route, expect

from tests.conftest import FIXTURES
from tests.e2e.browser.conftest import make_portal_user, sign_in
from tests.e2e.conftest import ADMIN_TOKEN, Server

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHARTS = ("lead_time", "requests", "savings", "candidates")
NAMESPACES = {
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xlink",
}


def _import(server: Server) -> None:
    data = (FIXTURES / "insights" / "jira-export.csv").read_bytes()
    response = httpx.post(
        f"{server.url}/api/v1/insights/tickets",
        params={"timezone": "Europe/Berlin", "source": "jira-e2e"},
        content=data,
        headers=ADMIN,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.json()["read"] == 6


def test_an_approver_sees_the_insights_charts(
    server: Server, open_context: Callable[..., BrowserContext]
) -> None:
    _import(server)
    lead = make_portal_user(server, "lena", "web", role="approver")
    page = sign_in(open_context(server), lead)
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights: the TicketOps bill")).to_be_visible()
    for chart in CHARTS:
        svg = page.locator(f'figure[data-chart="{chart}"] svg')
        expect(svg).to_be_visible()
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
    expect(page.get_by_role("img", name="Top ticket types without a golden path")).to_be_visible()
    expect(page.locator("figure[data-chart=candidates]")).to_contain_text("upload")


def test_the_html_report_opens_offline(
    server: Server, open_context: Callable[..., BrowserContext], tmp_path: Path
) -> None:
    _import(server)
    response = httpx.get(f"{server.url}/api/v1/insights/report.html", headers=ADMIN, timeout=60)
    assert response.status_code == 200, response.text
    html = response.text
    # Only XML namespaces may name a URL: nothing is fetched from anywhere.
    urls = set(re.findall(r"https?://[^\"' )>]+", html))
    assert urls <= NAMESPACES, urls - NAMESPACES
    report = tmp_path / "report.html"
    report.write_text(html, encoding="utf-8")
    context = open_context(server)
    requested: list[str] = []

    def block(route: Route) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", block)
    page = context.new_page()
    page.goto(report.as_uri())
    expect(page.get_by_role("heading", name="Insights: the TicketOps bill")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(4)
    assert all(url.startswith("file://") for url in requested), requested
