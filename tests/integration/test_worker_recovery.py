"""A worker killed with SIGKILL in the middle of a request: the request must end correct."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from goldenpath.app import Platform
from tests.conftest import (
    ADMIN,
    FIXTURES,
    member,
    remember_secrets,
    wait_for_request,
    wait_for_resource_state,
)

ALICE = member("alice", "payments")


@pytest.fixture
def start_worker(
    start_worker_process: Callable[[Path], subprocess.Popen[bytes]],
) -> Callable[[], subprocess.Popen[bytes]]:
    return lambda: start_worker_process(FIXTURES / "templates")


def test_a_request_survives_its_worker_being_killed(
    platform: Platform,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("killed")
    first = start_worker()
    request = platform.service.submit("slow-database", {"name": name, "pause": 4}, ALICE)

    # Kill the worker while it is in the middle of the request: after the database step,
    # during the pause, before the last step.
    wait_for_request(
        platform,
        request.id,
        until=lambda r: any(s.step_id == "pause" and s.status == "running" for s in r.steps),
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert platform.service.request(request.id, ADMIN).status == "running"

    start_worker()
    done = wait_for_request(platform, request.id, timeout=90)

    assert done.status == "succeeded", done.error
    assert done.attempts == 2
    assert [s.status for s in done.steps] == ["succeeded", "succeeded", "succeeded"]
    count = pg_admin.execute(
        "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
    ).fetchone()
    assert count == (1,)
    resources = platform.service.resources(ADMIN)
    assert [(r.name, r.state) for r in resources] == [(name, "active")]
    secrets = remember_secrets(platform.service.reveal_secrets(done.id, ALICE))
    with psycopg.connect(secrets["dsn"]) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (name,)

    platform.service.destroy(resources[0].id, ALICE)
    assert (
        wait_for_resource_state(platform, resources[0].id, {"destroyed", "failed"}) == "destroyed"
    )


def test_a_second_worker_process_takes_over_an_orphaned_request(
    platform: Platform,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    """The interrupted step is retried, finds its database, and the request completes."""
    name = unique_name("resume")
    worker = start_worker()
    request = platform.service.submit("slow-database", {"name": name, "pause": 3}, ALICE)
    wait_for_request(
        platform,
        request.id,
        until=lambda r: any(s.step_id == "db" and s.status == "succeeded" for s in r.steps),
    )
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    # A second, independent worker process takes over the orphaned job.
    start_worker()
    done = wait_for_request(platform, request.id, timeout=90)
    assert done.status == "succeeded", done.error
    count = pg_admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    assert count == (1,)
    [resource] = platform.service.resources(ADMIN)
    platform.service.destroy(resource.id, ALICE)
    wait_for_resource_state(platform, resource.id, {"destroyed"})
