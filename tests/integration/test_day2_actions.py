"""Day-2 actions declared by golden paths (``spec.day2``), run as guarded requests on what a
team owns: ``rotate-password`` on a real PostgreSQL that checks passwords (the embedded server;
the machine's own trusts every local login)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pymysql
import pytest
import redis
from redis.exceptions import AuthenticationError

from goldenpath.actions.base import Context, NoInputs, ResourceRef
from goldenpath.actions.postgres.database import PostgresDatabase, PostgresDatabaseInputs
from goldenpath.actions.postgres.password import PostgresRotatePassword
from goldenpath.actions.testing import MemoryJournal
from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.errors import (
    ActionError,
    Conflict,
    Day2ActionNotFound,
    InvalidInputs,
    ResourceNotFound,
)
from goldenpath.service import DryRun
from goldenpath.settings import BackendSettings
from goldenpath.store import tickets
from goldenpath.store.embedded import EmbeddedServer, start_embedded
from goldenpath.store.records import RequestRecord, ResourceRecord
from tests.conftest import (
    ADMIN,
    BackgroundWorker,
    dump_database,
    member,
    remember_secrets,
    served,
    wait_for_request,
    wait_for_resource_state,
)
from tests.e2e.cluster import free_port
from tests.integration.actions.aws.moto_support import REGION
from tests.integration.actions.test_mysql_database import ADMIN_DSN as MYSQL_DSN
from tests.integration.actions.test_mysql_database import connect as connect_mysql
from tests.integration.actions.test_redis_user import ADMIN_DSN as REDIS_DSN
from tests.integration.test_guardrails_aws import instances_named

ALICE = member("alice", "payments")
OTHER = member("olga", "search")


@pytest.fixture(scope="module")
def checking_postgres() -> Iterator[EmbeddedServer]:
    # Outside pytest's temporary tree, which pytest closes to other users (the server's) at
    # every session start.
    folder = Path(tempfile.mkdtemp(prefix="gp-embedded-"))
    server = start_embedded(folder / "data", free_port())
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_platform(
    make_platform: Callable[..., Platform], checking_postgres: EmbeddedServer
) -> Platform:
    server = checking_postgres
    dsn = f"host={server.socket_dir} port={server.port} user=postgres dbname=postgres"
    backend = BackendSettings(
        kind="postgres", dsn=dsn, public_host="127.0.0.1", public_port=server.port
    )
    return make_platform(backends={"postgres": backend})


def made(platform: Platform, template: str, parameters: dict[str, Any]) -> ResourceRecord:
    request = platform.service.submit(template, parameters, ALICE)
    done = wait_for_request(platform, request.id)
    assert done.status == "succeeded", done.error
    [resource] = [r for r in platform.service.resources(ALICE) if r.request_id == request.id]
    return resource


def refused_login(dsn: str) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn, connect_timeout=5)


def test_rotate_password_on_postgres_the_old_one_is_refused_the_new_one_logs_in(
    pg_platform: Platform, unique_name: Callable[[str], str], database_url: str
) -> None:
    platform = pg_platform
    with BackgroundWorker(platform):
        resource = made(platform, "postgres-database", {"name": unique_name("rot")})
        old = remember_secrets(platform.service.reveal_resource_secrets(resource.id, ALICE))
        with psycopg.connect(old["dsn"]) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (resource.name,)

        with pytest.raises(ResourceNotFound):
            platform.day2.run(resource.id, "rotate-password", {}, OTHER)  # another team's
        with pytest.raises(Day2ActionNotFound, match="offers: rotate-password"):
            platform.day2.run(resource.id, "resize", {}, ALICE)
        with pytest.raises(InvalidInputs, match="length"):
            platform.day2.run(resource.id, "rotate-password", {"length": 8}, ALICE)
        assert [r.kind for r in platform.service.requests(ADMIN)] == ["create"]

        submitted = platform.day2.run(resource.id, "rotate-password", {}, ALICE)
        assert not isinstance(submitted, type(None))
        done = wait_for_request(platform, submitted.id)
        assert done.status == "succeeded", done.error
    assert done.kind == "day2:rotate-password"
    assert sorted(r.kind for r in platform.service.requests(ALICE)) == [
        "create",
        "day2:rotate-password",
    ]
    assert done.outputs is not None and done.outputs["secrets"] == ["dsn", "password"]

    new = remember_secrets(platform.service.reveal_secrets(done.id, ALICE))
    assert new["password"] != old["password"]
    refused_login(old["dsn"])
    with psycopg.connect(new["dsn"]) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (resource.name,)
    # Wherever the platform shows the resource's secrets, the new password is what it shows.
    assert platform.service.reveal_resource_secrets(resource.id, ALICE) == new
    assert platform.service.reveal_secrets(resource.request_id, ALICE) == new
    assert platform.service.check(resource.id, ALICE).in_sync

    events = platform.audit.events(ADMIN, limit=500)
    operated = [e for e in events if e["action"] == "resource.operated"]
    assert [(e["target"], e["details"]["action"]) for e in operated] == [
        (resource.id, "day2:rotate-password")
    ]
    assert operated[0]["details"]["secret_outputs"] == ["dsn", "password"]
    assert any(e["action"] == "secret.revealed" and e["target"] == done.id for e in events)
    assert new["password"] not in str(events) and old["password"] not in str(events)
    # Insights count what retired a ticket of the path's type: the rotation is not one.
    with platform.database.begin() as conn:
        counted = [r["id"] for r in tickets.platform_requests(conn)]
    assert counted == [resource.request_id]
    # Neither password is anywhere in clear in the platform's database, as a backup holds it.
    dumped = dump_database(database_url)
    assert new["password"] not in dumped and old["password"] not in dumped


def test_day2_refuses_what_is_not_live_and_changes_nothing(
    pg_platform: Platform, unique_name: Callable[[str], str]
) -> None:
    platform = pg_platform
    with BackgroundWorker(platform):
        resource = made(platform, "postgres-database", {"name": unique_name("gone")})
        platform.service.destroy(resource.id, ALICE)
        with pytest.raises(Conflict, match=r"is (destroying|destroyed)"):
            platform.day2.run(resource.id, "rotate-password", {}, ALICE)
    assert [r.kind for r in platform.service.requests(ADMIN)] == ["create"]


def test_admins_may_run_day2_actions_of_any_team_and_the_list_says_what_is_offered(
    pg_platform: Platform, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    platform = pg_platform
    with BackgroundWorker(platform):
        resource = made(platform, "postgres-database", {"name": unique_name("adm")})
        template, offered = platform.day2.offered(resource.id, ALICE)
        assert [a.name for a in offered] == ["rotate-password"]
        assert template.day2_schema("rotate-password")["additionalProperties"] is False
        submitted = platform.day2.run(resource.id, "rotate-password", {}, ADMIN)
        done = wait_for_request(platform, submitted.id)  # type: ignore[union-attr]
    assert done.status == "succeeded" and done.owner_team == "payments"


def test_the_api_and_the_cli_run_a_day2_action_and_reveal_the_new_password_once(
    pg_platform: Platform, unique_name: Callable[[str], str]
) -> None:
    platform = pg_platform
    issued = platform.directory.bootstrap()
    assert issued is not None
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(served(create_api(platform, run_worker=True)))
        env = {**os.environ, "GOLDENPATH_URL": url, "GOLDENPATH_TOKEN": issued.token}

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "goldenpath.cli.main", *args],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                env=env,
            )

        name = unique_name("cli")
        made = cli("request", "postgres-database", "-p", f"name={name}", "--wait", "--json")
        assert made.returncode == 0, made.stdout + made.stderr
        first = json.loads(made.stdout)
        old = remember_secrets(first["secrets"])
        [resource] = [r for r in platform.service.resources(ADMIN) if r.name == name]

        listed = cli("resources", "actions", resource.id)
        assert listed.returncode == 0 and "rotate-password" in listed.stdout, listed.stderr
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {issued.token}"})
        stack.callback(api.close)
        unknown = api.post(f"/api/v1/resources/{resource.id}/actions/resize", json={})
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
        assert unknown.json()["code"] == "day2_action_not_found"
        bad = api.post(
            f"/api/v1/resources/{resource.id}/actions/rotate-password",
            json={"parameters": {"length": 8}},
        )
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "length"
        dry = api.post(
            f"/api/v1/resources/{resource.id}/actions/rotate-password", json={"dry_run": True}
        )
        assert dry.status_code == 200 and dry.json()["verdict"]["decision"] == "allow"
        assert [r.kind for r in platform.service.requests(ADMIN)] == ["create"]

        rotated = cli("resources", "run", resource.id, "rotate-password", "--wait", "--json")
        assert rotated.returncode == 0, rotated.stdout + rotated.stderr
        final = json.loads(rotated.stdout)
        new = remember_secrets(final["secrets"])
        assert final["kind"] == "day2:rotate-password" and final["status"] == "succeeded"
        listed_requests = cli("requests", "list")
        assert "day2:rotate-password" in listed_requests.stdout
        openapi = api.get("/api/openapi.json").json()
        operations = {
            op["operationId"] for path in openapi["paths"].values() for op in path.values()
        }
        assert {"listResourceActions", "runResourceAction"} <= operations
    refused_login(old["dsn"])
    with psycopg.connect(new["dsn"]) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (name,)
    reveals = [e for e in platform.audit.events(ADMIN, limit=500) if e["target"] == final["id"]]
    assert [e["action"] for e in reveals].count("secret.revealed") == 1


def mysql_login(dsn: str) -> str:
    with connect_mysql(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT CURRENT_USER()")
        return str(cursor.fetchone()[0]).split("@")[0]  # type: ignore[index]


def mysql_refused(dsn: str) -> None:
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        connect_mysql(dsn)


def redis_login(url: str) -> str:
    with redis.Redis.from_url(url, decode_responses=True) as client:
        assert client.ping()
        return str(client.client_info()["user"])


def redis_refused(url: str) -> None:
    with redis.Redis.from_url(url) as client, pytest.raises(AuthenticationError):
        client.ping()


@pytest.mark.parametrize(
    ("template", "backend", "secret", "login", "refused"),
    [
        (
            "mysql-database",
            BackendSettings(kind="mysql", dsn=MYSQL_DSN),
            "dsn",
            mysql_login,
            mysql_refused,
        ),
        (
            "redis",
            BackendSettings(kind="redis", dsn=REDIS_DSN),
            "url",
            redis_login,
            redis_refused,
        ),
    ],
    ids=["mariadb", "redis"],
)
def test_rotate_password_on_mariadb_and_redis(
    make_platform: Callable[..., Platform],
    unique_name: Callable[[str], str],
    template: str,
    backend: BackendSettings,
    secret: str,
    login: Callable[[str], str],
    refused: Callable[[str], None],
) -> None:
    platform = make_platform(backends={backend.kind: backend})
    name = unique_name("rot").replace("_", "-") if template == "redis" else unique_name("rot")
    with BackgroundWorker(platform):
        resource = made(platform, template, {"name": name})
        old = remember_secrets(platform.service.reveal_resource_secrets(resource.id, ALICE))
        assert login(old[secret]) == name
        submitted = platform.day2.run(resource.id, "rotate-password", {}, ALICE)
        done = wait_for_request(platform, submitted.id)  # type: ignore[union-attr]
        assert done.status == "succeeded", done.error
        new = remember_secrets(platform.service.reveal_secrets(done.id, ALICE))
        refused(old[secret])
        assert login(new[secret]) == name
        assert platform.service.reveal_resource_secrets(resource.id, ALICE) == new
        # The platform knows the new password is its own: no drift.
        assert platform.service.check(resource.id, ALICE).in_sync
        platform.service.destroy(resource.id, ALICE)
        assert wait_for_resource_state(platform, resource.id, {"destroyed", "failed"}) == (
            "destroyed"
        )


def test_resize_an_ec2_instance_within_the_enum_really_changes_its_type(
    make_platform: Callable[..., Platform],
    aws_backend: BackendSettings,
    moto_endpoint: str,
    unique_name: Callable[[str], str],
) -> None:
    platform = make_platform(backends={"aws": aws_backend}, allowed_regions=[REGION])
    name = unique_name("vm").replace("_", "-")
    with BackgroundWorker(platform):
        resource = made(
            platform,
            "ec2-instance",
            {"name": name, "instance_type": "t3.micro", "cost_center": "cc-1"},
        )
        [instance] = instances_named(moto_endpoint, name)
        assert (instance["InstanceType"], instance["State"]["Name"]) == ("t3.micro", "running")

        # Only what the form's enum offers: anything else is bad input and records nothing.
        for wrong in ({"instance_type": "m5.24xlarge"}, {}):
            with pytest.raises(InvalidInputs, match="instance_type"):
                platform.day2.run(resource.id, "resize", wrong, ALICE)
        assert len(platform.service.requests(ADMIN)) == 1
        preview = platform.day2.run(
            resource.id, "resize", {"instance_type": "t3.small"}, ALICE, dry_run=True
        )
        assert isinstance(preview, DryRun) and preview.verdict.allowed
        [planned] = preview.plan["resources"]
        assert planned["config"]["instance_type"] == "t3.small"
        assert preview.plan["total_monthly_cost_usd"] > 0  # what the bigger size adds

        submitted = platform.day2.run(resource.id, "resize", {"instance_type": "t3.small"}, ALICE)
        done = wait_for_request(platform, submitted.id)  # type: ignore[union-attr]
        assert done.status == "succeeded", done.error
    assert done.kind == "day2:resize"
    [instance] = instances_named(moto_endpoint, name)
    assert (instance["InstanceType"], instance["State"]["Name"]) == ("t3.small", "running")
    after = platform.service.resource(resource.id, ALICE)
    assert after.config["instance_type"] == "t3.small"
    assert platform.service.check(resource.id, ALICE).in_sync  # observe reads the new type
    operated = [
        e for e in platform.audit.events(ADMIN, limit=500) if e["action"] == "resource.operated"
    ]
    assert operated[0]["details"]["changes"] == {"instance_type": "t3.small"}


def test_a_rotation_retried_after_a_crash_sets_the_same_password(
    checking_postgres: EmbeddedServer, unique_name: Callable[[str], str]
) -> None:
    """The checkpoint is taken before the password is set: a step run again (its worker killed
    between setting the password and recording it) sets the one the platform will hand out."""
    server = checking_postgres
    dsn = f"host={server.socket_dir} port={server.port} user=postgres dbname=postgres"
    backends = {
        "postgres": BackendSettings(
            kind="postgres", dsn=dsn, public_host="127.0.0.1", public_port=server.port
        )
    }
    name = unique_name("retry")
    made_with = PostgresDatabaseInputs(name=name)

    def context(inputs: Any, journal: MemoryJournal) -> Context[Any]:
        return Context(
            inputs=inputs,
            backends=backends,
            owner_team="payments",
            requested_by="alice",
            template_name="postgres-database",
            request_id="req-1",
            step_id="db",
            resource_id="r-retry",
            journal=journal,
        )

    created = PostgresDatabase().apply(context(made_with, MemoryJournal()))
    ref = ResourceRef(
        id="r-retry", type="postgres:database", name=name, backend="postgres", config={}, outputs={}
    )
    journal = MemoryJournal()
    first = PostgresRotatePassword().operate(context(NoInputs(), journal), ref, made_with)
    again = PostgresRotatePassword().operate(context(NoInputs(), journal), ref, made_with)
    remember_secrets({"old": created["password"], "new": first["password"]})
    assert first == again and first["password"] != created["password"]
    refused_login(created["dsn"])
    with psycopg.connect(again["dsn"]) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (name,)
    # Someone else's role of another resource is left alone.
    other = ResourceRef(
        id="r-other", type="postgres:database", name=name, backend="postgres", config={}, outputs={}
    )
    stranger = dataclasses.replace(context(NoInputs(), MemoryJournal()), resource_id="r-x")
    with pytest.raises(ActionError, match="not the one this resource created"):
        PostgresRotatePassword().operate(stranger, other, made_with)
    PostgresDatabase().destroy(context(made_with, MemoryJournal()), ref)


def test_a_day2_run_waits_for_a_busy_resource_instead_of_failing(
    pg_platform: Platform, unique_name: Callable[[str], str], database_url: str
) -> None:
    platform = pg_platform
    with BackgroundWorker(platform):
        resource = made(platform, "postgres-database", {"name": unique_name("busy")})
        with psycopg.connect(database_url, autocommit=True) as holder:
            # What a destroy (or another day-2 run) of the resource holds while it works.
            key = f"goldenpath:resource:{resource.id}"
            holder.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
            submitted = platform.day2.run(resource.id, "rotate-password", {}, ALICE)
            assert isinstance(submitted, RequestRecord)
            waiting = wait_for_request(platform, submitted.id, until=lambda r: r.attempts >= 2)
            assert waiting.status == "running" and waiting.steps[0].status == "pending"
            holder.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
        done = wait_for_request(platform, submitted.id)
    assert done.status == "succeeded", done.error
