"""The platform's PostgreSQL restarting mid-run (a server of the test's own, never the shared
one): the API answers 503 with Retry-After, never 500, and says so once in its log; /readyz
is not ready while /healthz stays alive; the worker reconnects by itself, and every request
ends once the database is back, each exactly once."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.e2e.cluster import Cluster, Process, client, wait_until_terminal
from tests.servers import OwnPostgres

pytestmark = pytest.mark.slow


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    yield server
    server.close()


@pytest.fixture
def cluster(own_postgres: OwnPostgres, tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(own_postgres.url, tmp_path)
    yield running
    running.stop_all()


def test_a_database_restart_strands_no_request(own_postgres: OwnPostgres, cluster: Cluster) -> None:
    api = cluster.start_api()
    worker = cluster.start_worker(concurrency=3)
    with client(api) as http:
        _restart_mid_run(own_postgres, api, worker, http)


def _restart_mid_run(
    own_postgres: OwnPostgres, api: Process, worker: Process, http: httpx.Client
) -> None:
    names = [f"restart_{secrets.token_hex(3)}_{i}" for i in range(6)]
    ids = []
    for name in names:
        made = http.post(
            "/api/v1/requests",
            json={"template": "slow-database", "parameters": {"name": name, "pause": 3}},
        )
        assert made.status_code == 202, made.text
        ids.append(made.json()["id"])
    _wait_until_any_running(http, ids)

    own_postgres.stop()
    answers = []
    for _ in range(8):
        answers.append(http.get("/api/v1/requests"))
        answers.append(
            http.post(
                "/api/v1/requests",
                json={"template": "slow-database", "parameters": {"name": "never_made"}},
            )
        )
        time.sleep(0.3)
    ready = httpx.get(f"{api.url}/readyz", timeout=10)
    alive = httpx.get(f"{api.url}/healthz", timeout=10)
    own_postgres.start()

    assert {a.status_code for a in answers} == {503}, [a.text for a in answers]
    assert all(a.headers["Retry-After"].isdigit() for a in answers)
    assert all(a.headers["Content-Type"] == "application/problem+json" for a in answers)
    assert answers[0].json()["code"] == "database_unavailable"
    assert ready.status_code == 503 and ready.headers["Retry-After"].isdigit()
    assert ready.json()["checks"]["database"].startswith("unreachable")
    assert alive.status_code == 200

    final = wait_until_terminal(http, ids, timeout=90)
    assert {r["status"] for r in final.values()} == {"succeeded"}, final
    resources = http.get("/api/v1/resources").json()["items"]
    assert sorted(r["name"] for r in resources) == sorted(names), "one resource per request"
    with psycopg.connect(own_postgres.url, autocommit=True) as conn:
        made = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = ANY(%s)", (names,)
        ).fetchone()
        leftover = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'goldenpath.run_request'"
            " AND status IN ('todo', 'doing')"
        ).fetchone()
        never = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = 'never_made'"
        ).fetchone()
    assert made == (len(names),) and never == (0,)
    assert leftover == (0,)
    assert readyz_status(api.url) == 200

    api_log = api.text()
    assert api_log.count("the platform's database is unreachable") == 1, api_log
    assert "Traceback" not in api_log, api_log
    assert "the platform's database answers again" in api_log
    assert worker.alive(), worker.text()
    assert "the platform's database is unreachable" in worker.text()
    assert "the platform's database answers again" in worker.text()


def readyz_status(url: str | None) -> int:
    return httpx.get(f"{url}/readyz", timeout=10).status_code


def _wait_until_any_running(http: httpx.Client, ids: list[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for request_id in ids:
            view = http.get(f"/api/v1/requests/{request_id}").json()
            if any(s["id"] == "pause" and s["status"] == "running" for s in view["steps"]):
                return
        time.sleep(0.2)
    raise AssertionError("no request reached its pause step")
