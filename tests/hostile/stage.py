"""The platform the hostile values are sent to: in this process, on a fresh database of the
machine's PostgreSQL, with every starter golden path's backend real or a local stand-in:

- ``postgres``: the platform's own PostgreSQL server (the machine's shared one);
- ``mysql``: the machine's MariaDB, ``redis``: the machine's Redis;
- ``aws``: moto's ``ThreadedMotoServer``; ``ci``: the local fake of GitHub's API;
- ``git``: the platform's local git server; ``terraform``: the real binary, state in the
  platform's database;
- Slack: the face mounted (a signing secret) and talking to the local fake of Slack's Web API.

A worker thread runs what is accepted, so a value that slips through really reaches its
backend. `staged` yields the `Stage`; at the end it destroys what the run made and drops the
run's objects (their names start with ``Stage.prefix``) from the shared servers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from moto.server import ThreadedMotoServer
from psycopg import sql

from goldenpath.api.app import create_api
from goldenpath.app import Platform, build_platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.settings import BackendSettings, Settings
from tests.conftest import drop_mysql_and_redis_objects, served
from tests.integration.actions.aws.moto_support import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
)
from tests.integration.actions.ci.ci_fakes import GITHUB_TOKEN, FakeGitHub, serve
from tests.integration.slack.slack_fake import SlackFake

PG_ADMIN = os.environ.get("GOLDENPATH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN = os.environ.get("GOLDENPATH_TEST_MYSQL", "mysql://root:@127.0.0.1:3306/")
REDIS_URL = os.environ.get("GOLDENPATH_TEST_REDIS", "redis://127.0.0.1:6379/0")
REPOSITORY = "acme/payments"  # the one repository the fake GitHub has
TEAM = "hostile"
SLACK_SECRET = "hostile-signing-secret-0123456789"
SLACK_USER = "U0HOSTILEDEV"  # the developer's Slack id
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "rejected", "rollback_failed"})


@dataclass
class Stage:
    platform: Platform
    url: str
    admin: httpx.Client  # the bootstrap admin's API client
    developer: httpx.Client  # a developer of team `TEAM`
    github: FakeGitHub
    slack: SlackFake
    moto_endpoint: str
    prefix: str  # every name the run makes itself starts with it: gph<hex>
    marker: str  # every hostile value that could leave a trace carries it: hx<hex>
    counter: int = 0

    def fresh(self, stem: str, sep: str = "_") -> str:
        """A name of the run's own, valid for every starter path (lower-case, digits, sep)."""
        self.counter += 1
        return f"{self.prefix}{sep}{stem}{self.counter}"

    def wait(self, request_id: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found: dict[str, Any] = self.admin.get(f"/api/v1/requests/{request_id}").json()
            if found.get("status") in TERMINAL or found.get("status") == "pending_approval":
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"request {request_id} still {found.get('status')}")
            time.sleep(0.2)


@contextlib.contextmanager
def staged(run: str | None = None) -> Iterator[Stage]:
    run = run or secrets.token_hex(3)
    prefix, database = f"gph{run}", f"gp_hostile_{run}"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="gp-hostile-"))
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    moto_endpoint = f"http://{host}:{port}"
    github = FakeGitHub(repositories={REPOSITORY})
    slack = SlackFake(bot_token="xoxb-hostile").start()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    platform: Platform | None = None
    worker: WorkerThread | None = None
    try:
        with serve(github) as github_url:
            settings = Settings(
                database_url=PG_ADMIN.rsplit("/", 1)[0] + "/" + database,
                data_dir=folder / "data",
                backends=_backends(moto_endpoint, github_url),
                slack_signing_secret=SLACK_SECRET,
                slack_bot_token="xoxb-hostile",
                slack_api_url=slack.url,
                login_rate_limit="100000/minute",
                address_rate_limit="100000/minute",
            )
            platform = build_platform(settings)
            token = platform.directory.bootstrap()
            assert token is not None
            worker = WorkerThread(platform, concurrency=8).start()
            with served(create_api(platform)) as url:
                admin_client = _client(url, token.token)
                developer = _client(url, _developer(admin_client))
                stage = Stage(
                    platform=platform,
                    url=url,
                    admin=admin_client,
                    developer=developer,
                    github=github,
                    slack=slack,
                    moto_endpoint=moto_endpoint,
                    prefix=prefix,
                    marker=f"hx{run}",
                )
                try:
                    yield stage
                finally:
                    _destroy_everything(stage)
                    admin_client.close()
                    developer.close()
    finally:
        if worker is not None:
            worker.stop()
        if platform is not None:
            platform.close()
        moto.stop()
        slack.stop()
        _drop_run_objects(prefix, database)
        shutil.rmtree(folder, ignore_errors=True)


def _backends(moto_endpoint: str, github_url: str) -> dict[str, BackendSettings]:
    return {
        "mysql": BackendSettings(kind="mysql", dsn=MYSQL_ADMIN),
        "redis": BackendSettings(kind="redis", dsn=REDIS_URL),
        "aws": BackendSettings(
            kind="aws",
            region=REGION,
            endpoint_url=moto_endpoint,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            allowed_regions=[REGION],
        ),
        "ci": BackendSettings(kind="ci", provider="github", api_url=github_url, token=GITHUB_TOKEN),
    }


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=httpx.Timeout(120)
    )


def _developer(admin: httpx.Client) -> str:
    admin.post("/api/v1/teams", json={"name": TEAM}).raise_for_status()
    admin.post("/api/v1/users", json={"name": "hostile-dev"}).raise_for_status()
    added = admin.post(f"/api/v1/teams/{TEAM}/members", json={"user": "hostile-dev"})
    added.raise_for_status()
    linked = admin.put("/api/v1/users/hostile-dev/slack", json={"slack_user_id": SLACK_USER})
    linked.raise_for_status()
    made = admin.post("/api/v1/tokens", json={"name": "hostile", "user": "hostile-dev"})
    made.raise_for_status()
    return str(made.json()["token"])


def _destroy_everything(stage: Stage) -> None:
    """Destroy every live resource through the platform, as its owner would."""
    cursor: str | None = None
    ids: list[str] = []
    while True:
        params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = stage.admin.get("/api/v1/resources", params=params).json()
        ids += [r["id"] for r in page["items"] if r["state"] not in ("destroyed", "destroying")]
        cursor = page.get("next")
        if not cursor:
            break
    for resource_id in ids:
        stage.admin.delete(f"/api/v1/resources/{resource_id}")
    deadline = time.monotonic() + 180
    while ids and time.monotonic() < deadline:
        states = [stage.admin.get(f"/api/v1/resources/{i}").json().get("state") for i in ids]
        ids = [i for i, s in zip(ids, states, strict=True) if s not in ("destroyed", "failed")]
        time.sleep(0.5)


def _drop_run_objects(prefix: str, database: str) -> None:
    """Whatever a failed destroy left on the shared servers, and the platform database."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        for (name,) in admin.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) OR datname = %s",
            (prefix, database),
        ).fetchall():
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        for (name,) in admin.execute(
            "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", (prefix,)
        ).fetchall():
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    drop_mysql_and_redis_objects(prefix)
