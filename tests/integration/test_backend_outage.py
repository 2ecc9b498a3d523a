"""A backend that goes away while a request is being applied: MariaDB and Redis (servers of the
test's own, killed with SIGKILL) and an AWS endpoint (moto's server, stopped). The request's next
step fails on the unreachable backend, the rollback runs, and what it could not undo then is
destroyed once the backend answers again: listing the backend finds nothing the catalog does
not hold as live, and nothing the request made is left."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from goldenpath.app import Platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.settings import BackendSettings
from tests.conftest import ADMIN, wait_for_request, wait_for_resource_state
from tests.integration.actions.aws.moto_support import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from tests.servers import OwnMariaDB, OwnRedis, free_port

TEMPLATE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  name: outage
  title: Two {action} on one backend, a pause between them
  version: "1"
spec:
  parameters:
    required: [name]
    properties:
      name: {{type: string}}
  steps:
    - id: first
      action: {action}
      input: {{name: "${{{{ parameters.name }}}}a"{extra}}}
    - id: pause
      action: debug:wait
      input: {{seconds: 2}}
    - id: second
      action: {action}
      input: {{name: "${{{{ parameters.name }}}}b"{extra}}}
"""


@dataclass
class Backend:
    """A backend the test can take away and bring back, and list."""

    action: str
    settings: BackendSettings
    kill: Callable[[], None]
    start: Callable[[], None]
    names: Callable[[], set[str]]
    extra_input: str = ""


@pytest.fixture
def mariadb() -> Iterator[Backend]:
    server = OwnMariaDB()

    def names() -> set[str]:
        with server.connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT User FROM mysql.user"
                " UNION SELECT schema_name FROM information_schema.schemata"
            )
            return {str(row[0]) for row in cursor.fetchall()}

    yield Backend(
        "mysql:database",
        BackendSettings(kind="mysql", dsn=server.dsn),
        server.kill,
        server.start,
        names,
    )
    server.close()


@pytest.fixture
def redis_server() -> Iterator[Backend]:
    server = OwnRedis()

    def names() -> set[str]:
        client = server.client()
        users = {u.decode() if isinstance(u, bytes) else str(u) for u in client.acl_users()}
        keys = {k.decode() if isinstance(k, bytes) else str(k) for k in client.keys("goldenpath:*")}
        return users | keys

    yield Backend(
        "redis:user",
        BackendSettings(kind="redis", dsn=server.dsn),
        server.kill,
        server.start,
        names,
    )
    server.close()


@pytest.fixture
def aws_endpoint() -> Iterator[Backend]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    servers = [ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)]
    servers[0].start()
    endpoint = f"http://127.0.0.1:{port}"

    def start() -> None:
        # moto keeps its state in this process: the endpoint comes back with what it had.
        servers.append(ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False))
        servers[-1].start()

    def names() -> set[str]:
        s3 = boto3.client(
            "s3",
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )
        return {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}

    settings = BackendSettings(
        kind="aws",
        region=REGION,
        endpoint_url=endpoint,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    yield Backend(
        "aws:s3:bucket",
        settings,
        lambda: servers[-1].stop(),
        start,
        names,
        ', tags: {"cost-center": "cc-1"}',
    )
    servers[-1].stop()


@pytest.fixture(params=["mariadb", "redis_server", "aws_endpoint"])
def backend(request: pytest.FixtureRequest) -> Backend:
    found: Backend = request.getfixturevalue(request.param)
    return found


def test_a_backend_gone_mid_apply_leaves_nothing_half_made_once_it_is_back(
    backend: Backend, make_platform: Callable[..., Platform], tmp_path: Path
) -> None:
    folder = tmp_path / "paths"
    folder.mkdir()
    (folder / "outage.yaml").write_text(
        TEMPLATE.format(action=backend.action, extra=backend.extra_input)
    )
    kind = backend.settings.kind
    platform = make_platform(
        template_dirs=[folder], load_starter=False, backends={kind: backend.settings}
    )
    name = f"outage{secrets.token_hex(3)}"
    with WorkerThread(platform):
        submitted = platform.service.submit("outage", {"name": name}, ADMIN)
        wait_for_request(platform, submitted.id, until=_pausing, timeout=120)
        assert {f"{name}a"} <= backend.names(), "the first step made its object"
        backend.kill()
        failed = wait_for_request(platform, submitted.id, timeout=180)
        backend.start()
        resources = platform.service.resources(ADMIN, include_destroyed=True)
        ours = [r for r in resources if r.request_id == submitted.id]
        for resource in ours:
            wait_for_resource_state(platform, resource.id, {"destroyed"}, timeout=180)

    assert failed.status == "failed", failed
    assert "step 'second' failed" in (failed.error or "")
    assert "unreachable" in (failed.error or "")
    steps = {s.step_id: s.status for s in failed.steps}
    assert steps["second"] == "failed" and steps["first"] in {"rolled_back", "rollback_failed"}
    live = {
        r.name
        for r in platform.service.resources(ADMIN, include_destroyed=False)
        if r.state != "destroyed"
    }
    left = {n for n in backend.names() if name in n}
    assert left - live == set(), f"orphans in {kind}: {left - live}"
    assert left == set(), f"half-made in {kind}: {left}"


def _pausing(record: Any) -> bool:
    pausing = any(s.step_id == "pause" and s.status == "running" for s in record.steps)
    return pausing or bool(record.finished)
