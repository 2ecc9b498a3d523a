"""`goldenpath up --sandbox`: on a fresh platform with nothing configured, all 8 starter paths
run through the CLI on the stand-ins, labelled as a sandbox, and are destroyed without a trace
in the stand-ins themselves (moto's EC2 and S3, the databases, Redis, the repositories, the
sealed CI secrets and Terraform state)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.conftest import (
    ADMIN_TOKEN,
    NAME_PREFIX,
    Cli,
    Server,
    exists_in_postgres,
    git,
    make_user,
)
from tests.e2e.sandbox_support import (
    aws_client,
    buckets,
    mysql_has,
    redis_user,
    sealed_keys,
    sweep_leftovers,
    terraform_state,
)

TEAM = "sbx"
SECRET_VALUE = "sandbox-" + secrets.token_hex(12)


@pytest.fixture(scope="module", autouse=True)
def _swept() -> Iterator[None]:
    yield
    sweep_leftovers()


@pytest.fixture(scope="module")
def sandbox_cli(sandbox_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    token = make_user(sandbox_server, "sbxdev", TEAM)
    return Cli(url=sandbox_server.url, cwd=tmp_path_factory.mktemp("sbxcli"), token=token)


def test_every_starter_path_runs_in_the_sandbox_and_is_destroyed_without_a_trace(
    sandbox_server: Server,
    sandbox_cli: Cli,
    e2e_admin: psycopg.Connection[Any],
    tmp_path: Path,
) -> None:
    cli = sandbox_cli
    log = sandbox_server.log.read_text()
    assert "Golden Path SANDBOX on" in log and "SANDBOX: local stand-ins, not production" in log

    # Every path is ready: nothing is configured but the stand-ins answer.
    listed = cli("templates", "list", "--json").json()
    assert {t["name"]: t["needs_setup"] for t in listed} == {
        name: []
        for name in (
            "ci-secret",
            "ec2-instance",
            "mysql-database",
            "new-repo",
            "postgres-database",
            "redis",
            "s3-bucket",
            "service-onboarding",
        )
    }
    checked = cli.as_user(ADMIN_TOKEN)("backends", "check", "--json")
    assert {c["name"]: c["reachable"] for c in checked.json()} == {
        name: True for name in ("aws", "ci", "git", "mysql", "postgres", "redis")
    }

    stem = NAME_PREFIX + secrets.token_hex(3)  # the shared servers' names for this run
    kept_before = sealed_keys(sandbox_server)  # the browser test shares this platform
    dashed = stem.replace("_", "-")
    repo = f"{dashed}-web"
    paths = {
        "postgres-database": ["name=" + stem + "pg"],
        "mysql-database": ["name=" + stem + "my"],
        "redis": ["name=" + stem + "rd"],
        "s3-bucket": ["name=" + dashed + "-bucket", "cost_center=cc-1"],
        "ec2-instance": ["name=" + dashed + "-vm", "cost_center=cc-1"],
        "new-repo": ["name=" + repo],
        "ci-secret": [f"repository=local/{repo}", "name=API_KEY", "value=" + SECRET_VALUE],
        "service-onboarding": ["name=" + dashed + "-svc", f"owner={TEAM}"],
    }
    dry = cli("request", "redis", "-p", f"name={stem}rd", "--dry-run", "--json").json()
    assert dry["sandbox"] is True and dry["verdict"]["decision"] == "allow"
    outputs: dict[str, dict[str, Any]] = {}
    for path, params in paths.items():
        args = [a for p in params for a in ("-p", p)]
        if path == "postgres-database":  # once as a person reads it: labelled in the text
            done = cli("request", path, *args, "--wait", "--no-reveal")
            assert done.code == 0, done.stdout + done.stderr
            assert "SANDBOX: made on local stand-ins, not production" in done.stdout
            continue
        done = cli("request", path, *args, "--wait", "--json", "--no-reveal")
        final = done.json()
        assert final["status"] == "succeeded", (path, final)
        assert final["sandbox"] is True
        outputs[path] = final["outputs"]["values"]

    # What the stand-ins hold now.
    resources = cli("resources", "list", "--json").json()
    assert len(resources) == 8 and all(r["sandbox"] is True for r in resources)
    ec2 = aws_client(sandbox_server, "ec2")
    instance_id = outputs["ec2-instance"]["instance_id"]
    (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    assert reservation["Instances"][0]["State"]["Name"] == "running"
    s3 = aws_client(sandbox_server, "s3")
    assert dashed + "-bucket" in buckets(s3)
    assert exists_in_postgres(e2e_admin, stem + "pg") == {"role": True, "database": True}
    assert mysql_has(stem + "my") == (True, True)
    assert redis_user(stem + "rd") is not None
    repo_dir = sandbox_server.data_dir / "git" / f"{repo}.git"
    assert repo_dir.is_dir()
    # The clone URL it hands out is this server's own (its --port), not the default one.
    assert outputs["new-repo"]["clone_url"] == f"{sandbox_server.url}/git/{repo}.git"
    made = sealed_keys(sandbox_server) - kept_before
    assert f"svc-{dashed}-svc" in made and any(k.startswith("ci:") for k in made)

    # The CI secret reaches the repository's hooks on a push, and only there.
    assert SECRET_VALUE not in repo_dir.joinpath("config").read_text()
    _push_and_read_hook_secret(sandbox_server, cli.token, repo, tmp_path)

    # Destroy everything, newest first (the secret before its repository).
    for resource in resources:
        destroyed = cli("resources", "destroy", resource["id"], "--yes", "--wait", "--json")
        assert destroyed.json()["state"] == "destroyed", destroyed.stdout

    (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    assert reservation["Instances"][0]["State"]["Name"] == "terminated"
    assert dashed + "-bucket" not in buckets(s3)
    assert exists_in_postgres(e2e_admin, stem + "pg") == {"role": False, "database": False}
    assert mysql_has(stem + "my") == (False, False)
    assert redis_user(stem + "rd") is None
    assert not repo_dir.exists()
    # The CI secret is gone; the Terraform workspace keeps a state that manages nothing.
    assert sealed_keys(sandbox_server) - kept_before == {f"svc-{dashed}-svc"}
    assert terraform_state(sandbox_server, f"svc-{dashed}-svc")["resources"] == []


def _push_and_read_hook_secret(server: Server, token: str, repo: str, tmp_path: Path) -> None:
    seen = tmp_path / "hook-saw"
    hook = server.data_dir / "git" / f"{repo}.git" / "hooks" / "post-receive"
    hook.write_text(f'#!/bin/sh\nprintf %s "$GOLDENPATH_SECRET_API_KEY" > {seen}\n')
    hook.chmod(0o755)
    host = server.url.removeprefix("http://")
    work = tmp_path / "work"
    cloned = git("clone", f"http://sbxdev:{token}@{host}/git/{repo}.git", str(work))
    assert cloned.returncode == 0, cloned.stderr
    (work / "app.py").write_text("print('hello')\n")
    git("add", "app.py", cwd=work)
    git("commit", "-m", "First code", cwd=work)
    pushed = git("push", "origin", "main", cwd=work)
    assert pushed.returncode == 0, pushed.stderr
    assert seen.read_text() == SECRET_VALUE
