"""A platform of separate processes (`goldenpath api`, `goldenpath worker`), for tests (and the
chaos bench) that stop the database, kill workers and run several API processes; usually on
a PostgreSQL server of their own (`tests.servers.OwnPostgres`), never the machine's shared one
when they restart it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.servers import free_port

ADMIN_TOKEN = "gp_clusteradmin_" + "C" * 43
FIXTURES = Path(__file__).parent.parent / "fixtures"


def goldenpath_command() -> list[str]:
    beside = Path(sys.executable).parent / "goldenpath"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "goldenpath.cli.main"]


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    log: Path
    url: str | None = None

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Cluster:
    """`goldenpath api` and `goldenpath worker` processes sharing one platform database."""

    database_url: str
    root: Path
    template_dir: Path = FIXTURES / "templates"
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        # Bytecode written once, as an installed platform has it: a checkout run with
        # PYTHONDONTWRITEBYTECODE compiles every module again at each process start.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("GOLDENPATH_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            GOLDENPATH_DATABASE_URL=self.database_url,
            GOLDENPATH_DATA_DIR=str(self.root / "data"),
            GOLDENPATH_TEMPLATE_DIRS=str(self.template_dir),
            GOLDENPATH_BOOTSTRAP_TOKEN=ADMIN_TOKEN,
            GOLDENPATH_WORKER_HEARTBEAT_SECONDS="0.5",
            GOLDENPATH_STALLED_AFTER_SECONDS="3",
            GOLDENPATH_HOUSEKEEPING_SECONDS="1",
            GOLDENPATH_SHUTDOWN_GRACE_SECONDS="5",
        )
        env.update(self.extra_env)
        return env

    def _start(self, name: str, args: list[str], url: str | None = None) -> Process:
        log = self.root / f"{name}-{len(self.processes)}.log"
        with log.open("wb") as sink:
            popen = subprocess.Popen(
                [*goldenpath_command(), *args],
                cwd=self.root,
                env=self.env(),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        process = Process(popen, log, url)
        self.processes.append(process)
        return process

    def start_api(self, workers: int = 1) -> Process:
        port = free_port()
        api = self._start(
            "api",
            ["api", "--port", str(port), "--workers", str(workers)],
            f"http://127.0.0.1:{port}",
        )
        wait_until_ready(api)
        return api

    def start_worker(self, concurrency: int = 2) -> Process:
        return self._start("worker", ["worker", "--concurrency", str(concurrency)])

    def stop_all(self) -> None:
        for process in self.processes:
            if process.alive():
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()


def wait_until_ready(api: Process, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not api.alive():
            raise AssertionError(f"`goldenpath api` exited:\n{api.text()}")
        try:
            if httpx.get(f"{api.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"`goldenpath api` not ready after {timeout} s:\n{api.text()}")


def client(api: Process, token: str = ADMIN_TOKEN) -> httpx.Client:
    assert api.url is not None
    return httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


TERMINAL = {"succeeded", "failed", "cancelled", "rejected"}


def wait_until_terminal(
    http: httpx.Client, request_ids: list[str], timeout: float
) -> dict[str, dict[str, Any]]:
    """Every request's final view; raises naming the ones still unfinished at the deadline."""
    deadline = time.monotonic() + timeout
    final: dict[str, dict[str, Any]] = {}
    while True:
        for request_id in request_ids:
            if request_id in final:
                continue
            try:
                answer = http.get(f"/api/v1/requests/{request_id}")
            except httpx.TransportError:
                continue
            if answer.status_code == 200 and answer.json()["status"] in TERMINAL:
                final[request_id] = answer.json()
        if len(final) == len(request_ids):
            return final
        if time.monotonic() > deadline:
            stuck = sorted(set(request_ids) - set(final))
            raise AssertionError(f"{len(stuck)} request(s) unfinished after {timeout} s: {stuck}")
        time.sleep(0.3)
