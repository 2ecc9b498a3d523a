"""Portal papercuts, over real HTTP without a browser: an unknown address is the portal's 404
page for a browser (the API keeps its problem document), pages answer HEAD, the API docs need
no CDN, the catalog's cost is the preview's, and a request's page is headed with its path's
title, shows its parameters (a secret one masked), links the URLs in its outputs, and the audit
log links the requests its events are about."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.settings import BackendSettings
from tests.conftest import ADMIN, member, served, wait_for_request
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


def send_form(
    client: httpx.Client, page: str, fields: dict[str, str], action: str = ""
) -> httpx.Response:
    """Post ``fields`` from the form on ``page`` (to ``page + action``), with its CSRF token."""
    form = client.get(page)
    token = re.search(r'name="_csrf" value="([^"]+)"', form.text)
    assert token, form.text
    return client.post(page + action, data={**fields, "_csrf": token.group(1)})


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

        preview = send_form(
            client, "/paths/ec2-instance", {"name": "web", "cost_center": "cc-1"}, "/preview"
        )
        assert preview.status_code == 200, preview.text
        [total] = re.findall(r"Estimated total: ([^/]+)/month", preview.text)
    assert cost == total == "$8.32"  # t3.micro in eu-west-1: one figure, to the cent


DASHBOARD = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  name: team-dashboard
  title: Team dashboard
  description: A dashboard for a service, with an API key for its agent.
  owner: platform-team
  version: "1.0.0"
spec:
  access: {teams: ["*"]}
  parameters:
    - title: Dashboard
      required: [name, agent_key]
      properties:
        name: {type: string, title: Service, pattern: "^[a-z][a-z0-9-]{1,30}$"}
        agent_key: {type: string, title: Agent key, format: password, writeOnly: true}
  steps:
    - id: token
      action: secret:generate
      input: {length: 20, alphabet: urlsafe}
  output:
    values:
      url: "https://grafana.example.test/d/${{ parameters.name }}"
      note: "https is not a link on its own"
"""


def test_a_request_page_shows_its_title_parameters_and_linked_outputs_and_audit_links_it(
    make_platform: Callable[..., Platform], tmp_path: Path
) -> None:
    folder = tmp_path / "paths"
    folder.mkdir()
    (folder / "team-dashboard.yaml").write_text(DASHBOARD)
    platform = make_platform(template_dirs=[folder])
    platform.directory.create_user(ADMIN, "root", password=PASSWORD, is_admin=True)
    with developer_in_portal(platform, PASSWORD, run_worker=True) as client:
        posted = send_form(
            client, "/paths/team-dashboard", {"name": "checkout", "agent_key": "key-that-is-secret"}
        )
        assert posted.status_code == 303, posted.text
        request_id = posted.headers["location"].rsplit("/", 1)[-1]
        assert wait_for_request(platform, request_id, timeout=120).status == "succeeded"

        page = client.get(f"/requests/{request_id}").text
        with httpx.Client(base_url=str(client.base_url), timeout=60) as admin:
            assert sign_in(admin, "root", PASSWORD).status_code == 303
            audit = admin.get("/admin/audit", params={"action": "request."}).text
    assert re.search(r"<h1><a [^>]*>Team dashboard</a>", page)
    assert "<title>Request · Team dashboard" in page
    parameters = page.split('id="parameters"', 1)[1].split("</section>", 1)[0]
    assert "<dt>name</dt><dd><code>checkout</code></dd>" in parameters
    assert "<dt>agent_key</dt><dd><code>********</code></dd>" in parameters
    assert "key-that-is-secret" not in page
    url = "https://grafana.example.test/d/checkout"
    assert f'<a href="{url}" rel="noopener">{url}</a>' in page
    assert "<code>https is not a link on its own</code>" in page
    assert f'<a href="/requests/{request_id}">{request_id}</a>' in audit


def test_the_approvals_page_shows_what_a_request_would_create_and_the_teams_budget(
    make_platform: Callable[..., Platform], unique_name: Callable[[str], str]
) -> None:
    platform = make_platform(teams={"payments": {"monthly_budget_usd": 1}})
    with developer_in_portal(platform, PASSWORD) as client:
        platform.directory.create_user(ADMIN, "lead", password=PASSWORD)
        platform.directory.add_member(ADMIN, "payments", "lead", "approver")
        name = unique_name("appr")
        waiting = platform.service.submit("postgres-database", {"name": name}, member("alice"))
        assert waiting.status == "pending_approval"
        with httpx.Client(base_url=str(client.base_url), timeout=60) as lead:
            assert sign_in(lead, "lead", PASSWORD).status_code == 303
            page = lead.get("/approvals").text
    card = page.split(f'data-request="{waiting.id}"', 1)[1].split("</article>", 1)[0]
    [planned] = waiting.plan["resources"]
    assert f'data-planned="{planned["name"]}"' in card
    assert "$15.00/month" in card
    budget = re.sub(r"<[^>]+>", "", card.split('data-budget="payments">', 1)[1].split("</p>")[0])
    assert budget == (
        "Team payments spends $0.00/month of its $1.00 budget; this adds $15.00, to "
        "$15.00/month, over budget by $14.00."
    )


def test_the_request_form_asks_for_a_lifetime_and_the_request_keeps_it(
    portal: tuple[Platform, httpx.Client], unique_name: Callable[[str], str]
) -> None:
    platform, client = portal
    form = client.get("/paths/postgres-database").text
    assert 'name="_ttl"' in form and "at most 90d" in form

    too_long = send_form(client, "/paths/postgres-database", {"name": "x_db", "_ttl": "91d"})
    assert too_long.status_code == 422
    assert 'href="#f-_ttl">Lifetime</a>: must be at most 90d' in too_long.text
    assert platform.service.requests(ADMIN) == []

    name = unique_name("life")
    fields = {"name": name, "_ttl": "3d"}
    preview = send_form(client, "/paths/postgres-database", fields, "/preview")
    assert preview.status_code == 200, preview.text
    assert "Lifetime: destroyed automatically after 3d." in preview.text
    assert '<input type="hidden" name="_ttl" value="3d">' in preview.text
    assert "_ttl=3d" in preview.text  # "Change the values" keeps it too

    posted = send_form(client, "/paths/postgres-database", fields)
    assert posted.status_code == 303, posted.text
    [record] = platform.service.requests(ADMIN)
    assert record.plan["ttl_seconds"] == 3 * 86400
