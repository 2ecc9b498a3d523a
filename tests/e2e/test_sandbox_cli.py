"""`goldenpath up --sandbox`: on a fresh platform with nothing configured, all 8 starter paths
run through the CLI on the stand-ins, labelled as a sandbox, and are destroyed without a trace
in the stand-ins themselves (moto's EC2 and S3, the databases, Redis, the repositories, the
sealed CI secrets and Terraform state)."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pymysql
import pytest
import redis

from goldenpath.secretbox import load_secret_box
from tests.e2e.conftest import (
    ADMIN_TOKEN,
    NAME_PREFIX,
    Cli,
    Server,
    exists_in_postgres,
    git,
    make_user,
)

TEAM = "sbx"
SECRET_VALUE = "sandbox-" + secrets.token_hex(12)


@pytest.fixture(scope="module")
def sandbox_cli(sandbox_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    token = make_user(sandbox_server, "sbxdev", TEAM)
    return Cli(url=sandbox_server.url, cwd=tmp_path_factory.mktemp("sbxcli"), token=token)


@pytest.fixture(scope="module")
def leftovers_swept() -> Iterator[None]:
    """Whatever a failed run left on the shared MariaDB and Redis under this run's prefix."""
    yield
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute("SHOW DATABASES")
        for (name,) in cursor.fetchall():
            if name.startswith(NAME_PREFIX):
                cursor.execute(f"DROP DATABASE `{name}`")
        cursor.execute("SELECT User, Host FROM mysql.user")
        for user, host in cursor.fetchall():
            if user.startswith(NAME_PREFIX):
                cursor.execute("DROP USER %s@%s", (user, host))
    conn.close()
    client = redis.Redis(host="127.0.0.1", port=6379, decode_responses=True)
    for user in client.acl_users():
        if user.startswith(NAME_PREFIX):
            client.acl_deluser(user)
    client.close()


def moto_endpoint_of(server: Server) -> str:
    found = re.search(r"aws: +moto at (http://127\.0\.0\.1:\d+)", server.log.read_text())
    assert found, server.log.read_text()
    return found.group(1)


def aws_client(server: Server, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=moto_endpoint_of(server),
        region_name="eu-west-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )


def sealed_keys(server: Server) -> set[str]:
    """The keys of the platform's sealed action state (CI secrets, Terraform state)."""
    with psycopg.connect(server.database_url) as conn:
        return {k for (k,) in conn.execute("SELECT workspace FROM gp_terraform_states")}


def terraform_state(server: Server, workspace: str) -> Any:
    box = load_secret_box(None, server.data_dir)
    with psycopg.connect(server.database_url) as conn:
        row = conn.execute(
            "SELECT state FROM gp_terraform_states WHERE workspace = %s", (workspace,)
        ).fetchone()
    assert row is not None
    return json.loads(base64.b64decode(box.open(bytes(row[0]))))


def test_every_starter_path_runs_in_the_sandbox_and_is_destroyed_without_a_trace(
    sandbox_server: Server,
    sandbox_cli: Cli,
    e2e_admin: psycopg.Connection[Any],
    leftovers_swept: None,
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
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [dashed + "-bucket"]
    assert exists_in_postgres(e2e_admin, stem + "pg") == {"role": True, "database": True}
    assert _mysql_has(stem + "my") == (True, True)
    assert _redis_user(stem + "rd") is not None
    repo_dir = sandbox_server.data_dir / "git" / f"{repo}.git"
    assert repo_dir.is_dir()
    assert f"svc-{dashed}-svc" in sealed_keys(sandbox_server)
    assert any(k.startswith("ci:") for k in sealed_keys(sandbox_server))

    # The CI secret reaches the repository's hooks on a push, and only there.
    assert SECRET_VALUE not in repo_dir.joinpath("config").read_text()
    _push_and_read_hook_secret(sandbox_server, cli.token, repo, tmp_path)

    # Destroy everything, newest first (the secret before its repository).
    for resource in resources:
        destroyed = cli("resources", "destroy", resource["id"], "--yes", "--wait", "--json")
        assert destroyed.json()["state"] == "destroyed", destroyed.stdout

    (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    assert reservation["Instances"][0]["State"]["Name"] == "terminated"
    assert s3.list_buckets()["Buckets"] == []
    assert exists_in_postgres(e2e_admin, stem + "pg") == {"role": False, "database": False}
    assert _mysql_has(stem + "my") == (False, False)
    assert _redis_user(stem + "rd") is None
    assert not repo_dir.exists()
    # The CI secret is gone; the Terraform workspace keeps a state that manages nothing.
    assert sealed_keys(sandbox_server) == {f"svc-{dashed}-svc"}
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


def _mysql_has(name: str) -> tuple[bool, bool]:
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root")
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,)
            )
            database = cursor.fetchone() is not None
            cursor.execute("SELECT 1 FROM mysql.user WHERE User = %s", (name,))
            user = cursor.fetchone() is not None
    finally:
        conn.close()
    return database, user


def _redis_user(name: str) -> Any:
    client = redis.Redis(host="127.0.0.1", port=6379, decode_responses=True)
    try:
        return client.acl_getuser(name)
    finally:
        client.close()
