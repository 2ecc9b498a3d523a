"""Portal papercuts, over real HTTP without a browser: an unknown address is the portal's 404
page for a browser (the API keeps its problem document), pages answer HEAD, the API docs need
no CDN, and the catalog's cost is the preview's."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.settings import BackendSettings
from tests.conftest import ADMIN, served
from tests.integration.actions.aws.moto_support import REGION
from tests.integration.test_rate_limits import sign_in

PASSWORD = "papercut-password"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@contextmanager
def developer_in_portal(
    platform: Platform, password: str, *, run_worker: bool = False
) -> Iterator[httpx.Client]:
    """The portal served for real, with alice (a developer of payments) signed in."""
    platform.directory.create_team(ADMIN, "payments")
    platform.directory.create_user(ADMIN, "alice", password=password)
    platform.directory.add_member(ADMIN, "payments", "alice", "developer")
    with (
        served(create_api(platform, run_worker=run_worker)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        assert sign_in(client, "alice", password).status_code == 303
        yield client


@pytest.fixture
def portal(make_platform: Callable[..., Platform]) -> Iterator[tuple[Platform, httpx.Client]]:
    platform = make_platform()
    with developer_in_portal(platform, PASSWORD) as client:
        yield platform, client


def test_an_unknown_address_is_the_portals_404_page_for_a_browser_and_json_elsewhere(
    portal: tuple[Platform, httpx.Client],
) -> None:
    _, client = portal
    page = client.get("/no-such-page", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text
    assert 'href="/"' in page.text

    for path in ("/api/v1/no-such-thing", "/api/nothing"):
        api = client.get(path, headers=BROWSER)
        assert api.status_code == 404
        assert api.headers["content-type"] == "application/problem+json"
        assert api.json()["code"] == "not_found"
    script = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert script.status_code == 404
    assert script.json()["code"] == "not_found"


def test_pages_answer_head_like_get_without_a_body(portal: tuple[Platform, httpx.Client]) -> None:
    _, client = portal
    for path in ("/", "/login", "/requests"):
        head = client.head(path)
        assert head.status_code == 200, path
        assert head.headers["content-type"].startswith("text/html")
        assert head.content == b""
    assert client.head("/api/v1/no-such-thing").status_code == 404


def test_the_api_docs_load_swagger_ui_from_this_server_not_a_cdn(
    portal: tuple[Platform, httpx.Client],
) -> None:
    _, client = portal
    page = client.get("/api/docs", headers=BROWSER)
    assert page.status_code == 200
    assert "https://" not in page.text and "//cdn" not in page.text
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in assets:
        served_asset = client.get(asset)
        assert served_asset.status_code == 200, asset
        assert served_asset.content, asset
        if asset.endswith("swagger-ui-bundle.js"):
            assert b"SwaggerUIBundle" in served_asset.content
    assert "'/api/openapi.json'" in page.text or '"/api/openapi.json"' in page.text
    assert client.get("/api/openapi.json").json()["info"]["title"] == "Golden Path"


def test_the_catalog_and_the_preview_give_one_cost_for_a_default_ec2_instance(
    make_platform: Callable[..., Platform], aws_backend: BackendSettings
) -> None:
    platform = make_platform(backends={"aws": aws_backend}, allowed_regions=[REGION])
    with developer_in_portal(platform, PASSWORD) as client:
        catalog = client.get("/", params={"q": "ec2"})
        [card] = re.findall(r'<li class="card path">.*?</li>', catalog.text, flags=re.S)
        [cost] = re.findall(r"<dt>Cost</dt><dd>([^<]+)/month</dd>", card)

        form = client.get("/paths/ec2-instance")
        token = re.search(r'name="_csrf" value="([^"]+)"', form.text)
        assert token, form.text
        preview = client.post(
            "/paths/ec2-instance/preview",
            data={"name": "web", "cost_center": "cc-1", "_csrf": token.group(1)},
        )
        assert preview.status_code == 200, preview.text
        [total] = re.findall(r"Estimated total: ([^/]+)/month", preview.text)
    assert cost == total == "$8.32"  # t3.micro in eu-west-1: one figure, to the cent
