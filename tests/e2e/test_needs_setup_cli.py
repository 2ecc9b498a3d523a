"""On a platform without cloud backends, the CLI is honest about it: the catalog says which
paths need setup, a request for one exits 11 (not "bad input"), and admins see what is missing."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, Cli, Server

# The five cloud paths, each with parameters it would otherwise accept.
CLOUD_PATHS = {
    "ec2-instance": ["name=web", "cost_center=cc-1"],
    "s3-bucket": ["name=web-assets", "cost_center=cc-1"],
    "redis": ["name=cache"],
    "mysql-database": ["name=orders"],
    "ci-secret": ["repository=acme/web", "name=API_KEY", "value=s3cret"],
}


def test_a_path_without_its_backend_needs_setup_and_is_refused_with_its_own_code(
    cli: Cli,
) -> None:
    listed = cli("templates", "list", "--json")
    assert listed.code == 0, listed.stderr
    needs = {t["name"]: t["needs_setup"] for t in listed.json()}
    assert needs["ec2-instance"] == ["backend 'aws' of kind 'aws'"]
    assert needs["postgres-database"] == []
    table = " ".join(cli("templates", "list").stdout.split())
    assert "needs setup: backend 'aws'" in table

    refused = cli(
        "request", "ec2-instance", "-p", "name=web", "-p", "cost_center=cc-1", "--dry-run"
    )
    assert refused.code == 11, refused.stdout + refused.stderr
    said = " ".join((refused.stdout + refused.stderr).split())
    assert "not set up on this platform" in said and "ask your platform team" in said.lower()
    assert "Invalid input" not in said


def test_admins_see_which_backends_are_missing(cli: Cli) -> None:
    shown = cli.as_user(ADMIN_TOKEN)("backends", "list", "--json")
    assert shown.code == 0, shown.stderr
    rows = {b["name"]: b for b in shown.json()}
    assert rows["aws"]["configured"] is False
    assert set(rows["aws"]["needed_by"]) >= {"ec2-instance", "s3-bucket"}
    assert rows["postgres"]["configured"] is True
    assert "postgres-database" in rows["postgres"]["needed_by"]
    assert "dsn" not in str(shown.json())  # never a credential
    assert cli("backends", "list").code == 8  # developers: access denied


def test_without_backends_the_five_cloud_paths_need_setup_and_the_others_do_not(
    cli: Cli, server: Server
) -> None:
    listed = {t["name"]: t["needs_setup"] for t in cli("templates", "list", "--json").json()}
    assert {name for name, needs in listed.items() if needs} == set(CLOUD_PATHS)
    # Not a sandbox unless asked for: nothing says so.
    dry = cli("request", "new-repo", "-p", "name=web", "--dry-run", "--json").json()
    assert dry["sandbox"] is False
    assert "SANDBOX" not in server.log.read_text()


@pytest.mark.parametrize("path", sorted(CLOUD_PATHS))
def test_each_cloud_path_is_refused_as_not_set_up_by_the_cli_and_the_api(
    path: str, cli: Cli, server: Server, developer_token: str
) -> None:
    args = [a for p in CLOUD_PATHS[path] for a in ("-p", p)]
    for dry_run in ((), ("--dry-run",)):
        refused = cli("request", path, *args, *dry_run)
        assert refused.code == 11, refused.stdout + refused.stderr
    parameters = dict(p.split("=", 1) for p in CLOUD_PATHS[path])
    answer = httpx.post(
        f"{server.url}/api/v1/requests",
        json={"template": path, "parameters": parameters},
        headers={"Authorization": f"Bearer {developer_token}"},
        timeout=30,
    )
    assert answer.status_code == 501, answer.text
    assert answer.json()["code"] == "backend_not_configured"
    listed = cli("requests", "list", "--json").json()
    assert [r for r in listed if r["template"] == path] == []  # nothing was recorded
