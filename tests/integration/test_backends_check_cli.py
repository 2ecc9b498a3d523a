"""`goldenpath backends check` against a served platform: every configured backend with its
answer, exit 16 when one does not answer, `--json`, and admins only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.settings import BackendSettings
from tests.conftest import ADMIN, served


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def check(
    make_platform: Callable[..., Platform],
) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    nowhere = f"redis://:hunter2-secret@127.0.0.1:{_closed_port()}/0"
    platform = make_platform(
        backends={
            "redis": BackendSettings(kind="redis", dsn="redis://127.0.0.1:6379/0"),
            "cache-eu": BackendSettings(kind="redis", dsn=nowhere),
        }
    )
    issued = platform.directory.bootstrap()
    assert issued is not None
    directory = platform.directory
    directory.create_user(ADMIN, "dev")
    directory.add_member(ADMIN, "default", "dev", "developer")
    developer = directory.create_token(ADMIN, name="dev", user="dev").token
    with served(create_api(platform)) as url:

        def run(
            *args: str, token: str = issued.token, as_developer: bool = False
        ) -> subprocess.CompletedProcess[str]:
            token = developer if as_developer else token
            env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
            env.update(GOLDENPATH_URL=url, GOLDENPATH_TOKEN=token, COLUMNS="200")
            return subprocess.run(
                [sys.executable, "-m", "goldenpath.cli.main", "backends", "check", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )

        yield run


def test_an_unreachable_backend_is_named_and_the_check_exits_16(
    check: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    table = check()
    assert table.returncode == 16, table.stdout + table.stderr
    lines = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if "│" in line}
    assert "NO" in lines["cache-eu"] and "yes" in lines["redis"]
    assert "yes" in lines["postgres"] and "yes" in lines["git"]  # the platform's own

    answered = check("--json")
    assert answered.returncode == 16
    rows = {r["name"]: r for r in json.loads(answered.stdout)}
    assert rows["cache-eu"]["reachable"] is False and rows["cache-eu"]["detail"]
    assert rows["redis"]["reachable"] is True
    assert "hunter2" not in answered.stdout + table.stdout


def test_only_admins_may_check(check: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    refused = check(as_developer=True)
    assert refused.returncode == 8, refused.stdout + refused.stderr
    assert "hunter2" not in refused.stdout + refused.stderr
    unknown = check(token="gp_nobody000000_" + "B" * 43)
    assert unknown.returncode == 9, unknown.stdout + unknown.stderr
