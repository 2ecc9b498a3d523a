"""A rollout survives its worker being killed: version 2.0.0 of versioned-db raises the
connection limit of five databases (10 to 15, still small); the ``goldenpath worker`` process
running the upgrades is SIGKILLed in the middle of one, a new worker takes over, and every
database is changed, each once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from goldenpath.app import Platform
from goldenpath.store import queries
from tests.conftest import ADMIN, BackgroundWorker, member, wait_for_request
from tests.integration.upgrade_support import admin_cli, limits, write_version

ALICE = member("alice", "payments")


def upgrades_of(platform: Platform) -> list[Any]:
    return [r for r in platform.service.requests(ADMIN) if r.plan.get("upgrade")]


def test_a_worker_killed_mid_rollout_resumes_without_a_second_change(
    make_platform: Callable[..., Platform],
    start_worker_process: Callable[[Path], subprocess.Popen[bytes]],
    tmp_path: Path,
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
    database_url: str,
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    write_version(folder, "1.0.0", 10)
    v1 = make_platform(template_dirs=[folder])
    names = sorted(unique_name("kill") for _ in range(5))
    with BackgroundWorker(v1):
        for name in names:
            made = v1.service.submit("versioned-db", {"name": name}, ALICE)
            assert wait_for_request(v1, made.id).status == "succeeded"
    write_version(folder, "2.0.0", 15)
    v2 = make_platform(template_dirs=[folder])

    # The third database's upgrade waits on the action's own lock on its name, held here, so
    # the worker is killed in the middle of that upgrade, whatever the machine's speed.
    held = names[2]
    # On the platform's database: the developers' databases' server here, whose admin
    # connection takes the lock.
    blocker = psycopg.connect(database_url, autocommit=True)
    blocker.execute(
        "SELECT pg_advisory_lock(hashtext(%s))", [f"goldenpath:postgres:database:{held}"]
    )
    first = start_worker_process(folder)
    with admin_cli(v2, run_worker=False) as cli:
        rollout = cli.start("templates", "rollout", "versioned-db", "--max-parallel", "5", "--json")
        try:

            def mid_way() -> bool:
                found = {r.parameters["name"]: r for r in upgrades_of(v2)}
                return (
                    len(found) == 5
                    and any(r.status == "succeeded" for r in found.values())
                    and held in found
                    and v2.service.request(found[held].id, ADMIN).steps[0].status == "running"
                )

            wait_until(mid_way, lambda: f"{[(r.parameters, r.status) for r in upgrades_of(v2)]}")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            assert limits(pg_admin, held) == (10, 10)  # killed before its change
            done_before = {r.parameters["name"] for r in upgrades_of(v2) if r.status == "succeeded"}
            blocker.close()
            start_worker_process(folder)
            out, err = rollout.communicate(timeout=300)
        finally:
            blocker.close()
            if rollout.poll() is None:
                rollout.kill()
                rollout.communicate()
    assert rollout.returncode == 0, out + err
    report = json.loads(out)
    assert sorted(u["name"] for u in report["upgraded"]) == names
    assert {u["status"] for u in report["upgraded"]} == {"succeeded"}

    requests = {r.parameters["name"]: r for r in upgrades_of(v2)}
    assert sorted(requests) == names  # one upgrade request per database, none resubmitted
    for name, request in requests.items():
        assert request.status == "succeeded", request.error
        assert limits(pg_admin, name) == (15, 15)
    assert requests[held].attempts == 2  # run again by the second worker
    assert held not in done_before and done_before
    assert all(requests[name].attempts == 1 for name in done_before)
    with v2.database.begin() as conn:
        events = queries.events(conn)
    upgraded = sorted(e["target"] for e in events if e["action"] == "resource.upgraded")
    resources = {r.name: r.id for r in v2.service.resources(ADMIN)}
    assert upgraded == sorted(resources[name] for name in names)  # one change per resource
    for name, request in requests.items():
        started = [
            e for e in events if e["action"] == "step.started" and e["target"] == f"{request.id}/db"
        ]
        # The step the kill interrupted ran twice; those finished before it, once.
        if name == held or name in done_before:
            assert len(started) == (2 if name == held else 1), name


def wait_until(
    condition: Callable[[], bool], state: Callable[[], str], timeout: float = 240
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(
                f"the rollout never reached the point where the worker is killed: {state()}"
            )
        time.sleep(0.1)
