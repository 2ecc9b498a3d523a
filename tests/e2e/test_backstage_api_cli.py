"""Backstage templates through a running `goldenpath up`: the API's dry run takes only the
picked branch's fields, the CLI's `templates problems` shows admins the template that did not
load (naming the step and the action), and `templates verify` walks a Backstage template."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.browser.conftest import second_server
from tests.e2e.conftest import ADMIN_TOKEN, Cli, Server, make_user

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "backstage"


@pytest.fixture(scope="module")
def backstage_server(
    e2e_admin: psycopg.Connection[Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("backstage-server")
    with second_server(root, e2e_admin, template_dirs=str(FIXTURES)) as running:
        yield running


@pytest.fixture(scope="module")
def developer_api(backstage_server: Server) -> Iterator[httpx.Client]:
    token = make_user(backstage_server, "bs-dev", "bs-team")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=backstage_server.url, headers=headers, timeout=60) as client:
        yield client


def dry_run(api: httpx.Client, name: str, parameters: dict[str, Any]) -> httpx.Response:
    return api.post(f"/api/v1/templates/{name}/dry-run", json={"parameters": parameters})


def test_one_of_branch_asks_only_for_its_own_fields_through_the_api(
    developer_api: httpx.Client,
) -> None:
    missing = dry_run(developer_api, "cloud-bucket-bs", {"name": "orders", "cloud": "aws"})
    assert missing.status_code == 422, missing.text
    assert {f["field"] for f in missing.json()["fields"]} == {"awsRegion"}
    chosen = {"name": "orders", "cloud": "gcp", "gcpProject": "proj-1"}
    allowed = dry_run(developer_api, "cloud-bucket-bs", chosen)
    assert allowed.status_code == 200, allowed.text
    skipped = {s["id"]: s["skipped"] for s in allowed.json()["plan"]["steps"]}
    assert skipped == {"log_aws": True, "log_gcp": False, "pause": False}
    wrong = dry_run(developer_api, "cloud-bucket-bs", {"name": "orders", "cloud": "gcp"})
    assert {f["field"] for f in wrong.json()["fields"]} == {"gcpProject"}


def test_the_form_pages_are_served_as_converted(developer_api: httpx.Client) -> None:
    detail = developer_api.get("/api/v1/templates/cloud-account-bs").json()
    assert [p["title"] for p in detail["parameters"]] == ["Basics", "AWS", "GCP", "Azure"]
    names = {t["name"] for t in developer_api.get("/api/v1/templates").json()["items"]}
    assert {"cloud-account-bs", "cloud-bucket-bs", "loop-bs"} <= names
    assert "unknown-action-bs" not in names


def test_admins_see_the_template_that_did_not_load(
    backstage_server: Server, developer_api: httpx.Client, tmp_path: Path
) -> None:
    admin = Cli(url=backstage_server.url, cwd=tmp_path, token=ADMIN_TOKEN)
    shown = admin("templates", "problems", "--json")
    assert shown.code == 0, shown.stderr
    [problem] = json.loads(shown.stdout)
    assert problem["file"].endswith("unknown_action.yaml")
    assert problem["field"] == "spec.steps[0].action"
    assert "step 'deploy' uses action 'acme:deploy'" in problem["problem"]
    table = admin("templates", "problems")
    assert "acme:deploy" in table.stdout
    listed = admin("templates", "list")
    assert "1 template file(s) failed to load" in listed.stdout

    forbidden = developer_api.get("/api/v1/template-problems")
    assert forbidden.status_code == 403
    developer = Cli(
        url=backstage_server.url,
        cwd=tmp_path,
        token=developer_api.headers["Authorization"].removeprefix("Bearer "),
    )
    plain = developer("templates", "list")
    assert plain.code == 0, plain.stderr
    assert "failed to load" not in plain.stdout


def test_templates_verify_walks_a_backstage_template(tmp_path: Path) -> None:
    cli = Cli(url="http://127.0.0.1:9", cwd=tmp_path)
    files = [str(FIXTURES / name) for name in ("pages.yaml", "conditional.yaml", "each.yaml")]
    verified = cli("templates", "verify", *files, str(FIXTURES / "service" / "template.yaml"))
    assert verified.code == 0, verified.stdout + verified.stderr
    for name in ("cloud-account-bs", "cloud-bucket-bs", "loop-bs", "bs-service"):
        assert f"{name}@" in verified.stdout
    assert "no violation" in verified.stdout
    assert "verified nothing" not in verified.stdout
