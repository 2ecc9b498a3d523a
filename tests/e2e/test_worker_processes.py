"""`goldenpath up` runs its worker in a process of its own: requests run there, a worker that
dies is replaced, and none outlives the platform (stopped, or killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import eventually
from tests.e2e.browser.conftest import up_and_process
from tests.e2e.conftest import ADMIN_TOKEN, Server

LOG_ONLY = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata: {name: log-only, title: Log only, description: One debug:log step., version: "1.0.0"}
spec:
  access: {teams: ["*"]}
  parameters:
    - title: Input
      properties: {name: {title: Name, type: string, default: world}}
  steps:
    - id: log
      name: Log a message
      action: debug:log
      input: {message: 'Hello, ${{ parameters.name }}!'}
"""


def worker_processes_of(parent: int) -> list[int]:
    """Live `goldenpath worker` processes started by ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and fields[0] != "Z" and b"worker" in args:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def up(
    e2e_admin: psycopg.Connection[Any], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Server, subprocess.Popen[bytes]]]:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "log-only.yaml").write_text(LOG_ONLY)
    settings = {"template_dirs": str(templates), "load_starter": "false"}
    with up_and_process(tmp_path, e2e_admin, **settings, **getattr(request, "param", {})) as up:
        yield up


def run_one(server: Server, name: str) -> dict[str, Any]:
    """Submit the one-step path and wait for its end."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        submitted = client.post(
            "/api/v1/requests", json={"template": "log-only", "parameters": {"name": name}}
        )
        assert submitted.status_code == 202, submitted.text

        def finished() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(f"/api/v1/requests/{submitted.json()['id']}").json()
            return body if body["status"] in ("succeeded", "failed") else None

        done: dict[str, Any] = eventually(finished, 60, f"the request of {name} ends")
        return done


def test_requests_run_in_the_worker_process_and_it_stops_with_the_platform(
    up: tuple[Server, subprocess.Popen[bytes]],
) -> None:
    server, process = up
    [worker] = eventually(lambda: worker_processes_of(process.pid), 30, "a worker process")
    assert run_one(server, "first")["status"] == "succeeded"
    # The job ran in the worker process, not in the API's: its log lines say so.
    journal = server.log.read_text()
    assert "Golden Path worker (16 at once)" in journal

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0, server.log.read_text()
    assert not alive(worker)
    assert "Worker stopped." in server.log.read_text()


def test_a_worker_that_dies_is_replaced(up: tuple[Server, subprocess.Popen[bytes]]) -> None:
    server, process = up
    [first] = eventually(lambda: worker_processes_of(process.pid), 30, "a worker process")
    os.kill(first, signal.SIGKILL)
    [second] = eventually(
        lambda: [pid for pid in worker_processes_of(process.pid) if pid != first],
        30,
        "a new worker process",
    )
    assert second != first
    assert run_one(server, "after-the-crash")["status"] == "succeeded"
    assert f"worker process {first} exited with -9" in server.log.read_text()


def test_no_worker_outlives_a_killed_platform(up: tuple[Server, subprocess.Popen[bytes]]) -> None:
    server, process = up
    [worker] = eventually(lambda: worker_processes_of(process.pid), 30, "a worker process")
    process.kill()  # SIGKILL: the platform cannot stop its worker itself
    process.wait()
    eventually(lambda: not alive(worker), 30, "the orphaned worker ends")
    assert "the platform process" in server.log.read_text()


@pytest.mark.parametrize("up", [{"worker_processes": "0"}], indirect=True)
def test_with_no_worker_processes_the_api_process_runs_the_jobs(
    up: tuple[Server, subprocess.Popen[bytes]],
) -> None:
    server, process = up
    assert run_one(server, "in-process")["status"] == "succeeded"
    assert worker_processes_of(process.pid) == []
    assert "Golden Path worker" not in server.log.read_text()
