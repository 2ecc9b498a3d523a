"""Stalled-job recovery run by several workers at once: each job is put back exactly once, a
job another worker already moved is no error, and the rest of the round still happens."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
import pytest

from goldenpath.app import Platform
from goldenpath.execution.queue import QUEUE, RUN_REQUEST

T = TypeVar("T")


def stalled_jobs(database_url: str, count: int) -> list[int]:
    """``count`` jobs in ``doing`` held by a worker whose last heartbeat is an hour old."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '1 hour') RETURNING id"
        ).fetchone()
        assert row is not None
        ids = []
        for number in range(count):
            job = conn.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, worker_id)"
                " VALUES (%s, %s, %s, 'doing', %s) RETURNING id",
                (
                    QUEUE,
                    RUN_REQUEST,
                    psycopg.types.json.Jsonb({"request_id": f"r{number}"}),
                    row[0],
                ),
            ).fetchone()
            assert job is not None
            ids.append(int(job[0]))
    return ids


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a loop of its own thread: another test may have left one running
    in the main thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def statuses(database_url: str, ids: list[int]) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [
            str(
                conn.execute(
                    "SELECT status FROM procrastinate_jobs WHERE id = %s", (i,)
                ).fetchone()[0]
            )  # type: ignore[index]
            for i in ids
        ]


def test_a_job_recovered_by_another_worker_does_not_stop_the_round(
    platform: Platform, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = stalled_jobs(database_url, 3)

    async def scenario() -> tuple[int, int]:
        async with platform.queue.app.open_async():
            seen: list[Any] = list(
                await platform.queue.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=1)
            )
            assert sorted(job.id for job in seen) == ids
            # Another worker got to the first job between this one's listing and its retries.
            first = await platform.queue.requeue([j for j in seen if j.id == ids[0]])
            rest = await platform.queue.requeue(seen)
            return first, rest

    with caplog.at_level(logging.INFO, logger="goldenpath.execution.queue"):
        first, rest = run_async(scenario())
    assert (first, rest) == (1, 2)
    assert statuses(database_url, ids) == ["todo", "todo", "todo"]
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a benign race"
    assert any("already recovered by another worker" in r.getMessage() for r in caplog.records)


def test_two_workers_recovering_at_once_move_each_job_once(
    make_platform: Any, database_url: str
) -> None:
    one, two = make_platform(), make_platform()
    ids = stalled_jobs(database_url, 5)

    async def both() -> list[int]:
        async with one.queue.app.open_async(), two.queue.app.open_async():
            return list(
                await asyncio.gather(
                    one.queue.recover_stalled_jobs(1), two.queue.recover_stalled_jobs(1)
                )
            )

    moved = run_async(both())
    assert sum(moved) == 5
    assert statuses(database_url, ids) == ["todo"] * 5


def test_a_job_superseded_by_a_newer_one_waiting_does_not_stop_the_round(
    platform: Platform, database_url: str
) -> None:
    """A dead worker's periodic job whose next tick is already waiting under the same queueing
    lock cannot go back in the queue: it ends aborted, and the requests' jobs behind it in
    the round are still put back."""
    ids = stalled_jobs(database_url, 2)
    with psycopg.connect(database_url, autocommit=True) as conn:
        worker = conn.execute("SELECT worker_id FROM procrastinate_jobs WHERE id = %s", (ids[0],))
        tick = "goldenpath.audit_anchor"
        insert = (
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, worker_id,"
            " queueing_lock, lock) VALUES (%s, %s, '{}', %s, %s, %s, %s) RETURNING id"
        )
        owner = worker.fetchone()[0]  # type: ignore[index]
        stalled = conn.execute(insert, (QUEUE, tick, "doing", owner, tick, tick)).fetchone()
        waiting = conn.execute(insert, (QUEUE, tick, "todo", None, tick, tick)).fetchone()
    assert stalled is not None and waiting is not None

    async def scenario() -> int:
        async with platform.queue.app.open_async():
            seen = list(
                await platform.queue.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=1)
            )
            # The superseded job first: the jobs listed after it must still be put back.
            seen.sort(key=lambda job: job.task_name != tick)
            return await platform.queue.requeue(seen)

    assert run_async(scenario()) == 2
    assert statuses(database_url, ids) == ["todo", "todo"]
    assert statuses(database_url, [stalled[0], waiting[0]]) == ["aborted", "todo"]


def test_a_job_put_back_wakes_idle_workers(platform: Platform, database_url: str) -> None:
    """Procrastinate announces a job on INSERT only: recovery announces what it puts back, or
    idle workers would find it at their next poll."""
    ids = stalled_jobs(database_url, 2)
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f'LISTEN "procrastinate_queue_v1#{QUEUE}"')
        assert run_async(_recover(platform)) == 2
        heard = [n.payload for n in listener.notifies(timeout=5, stop_after=2)]
    assert sorted(json.loads(p)["job_id"] for p in heard) == ids


async def _recover(platform: Platform) -> int:
    async with platform.queue.app.open_async():
        return await platform.queue.recover_stalled_jobs(1)
