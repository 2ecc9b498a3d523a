"""Two `goldenpath api` processes and two `goldenpath worker` processes on one database (the
machine's shared PostgreSQL): the API processes run no jobs, the workers run them all."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.e2e.cluster import Cluster, client, wait_until_terminal

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(database_url: str, tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(database_url, tmp_path)
    yield running
    running.stop_all()


def test_two_apis_and_two_workers_share_the_load(
    cluster: Cluster, database_url: str, unique_name: Callable[[str], str]
) -> None:
    apis = [cluster.start_api(), cluster.start_api()]
    with client(apis[0]) as first, client(apis[1]) as second:
        early = first.post(
            "/api/v1/requests",
            json={"template": "slow-database", "parameters": {"name": unique_name("early")}},
        )
        assert early.status_code == 202, early.text
        time.sleep(3)  # long enough for an in-process worker to have claimed it
        # No API process runs jobs: no worker is registered, and the request still waits.
        assert _registered_workers(database_url) == 0
        assert second.get(f"/api/v1/requests/{early.json()['id']}").json()["status"] == "queued"

        workers = [cluster.start_worker(), cluster.start_worker()]
        ids = [early.json()["id"]]
        for number in range(10):
            http = (first, second)[number % 2]
            made = http.post(
                "/api/v1/requests",
                json={
                    "template": "slow-database",
                    "parameters": {"name": unique_name("load"), "pause": 0.5},
                },
            )
            assert made.status_code == 202, made.text
            ids.append(made.json()["id"])
        final = wait_until_terminal(second, ids, timeout=120)

    assert {r["status"] for r in final.values()} == {"succeeded"}, final
    assert _registered_workers(database_url) == 2
    assert all(worker.alive() for worker in workers)


def _registered_workers(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    assert row is not None
    return int(row[0])
