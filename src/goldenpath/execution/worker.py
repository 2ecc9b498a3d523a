"""Running a worker for as long as it is wanted: through database outages, and out cleanly.

Procrastinate's worker stops when its database goes away (its listener, heartbeat or job fetch
fails). This loop notices, says so once, waits for the database with backoff, opens a fresh
connection pool and starts a new worker. Jobs that were running when the connection dropped
stay ``doing`` under the old worker's id; its heartbeat stops, so stalled-job recovery puts
them back in the queue, and the runner resumes each request where it was.

Asked to stop, the worker claims nothing new and lets its running jobs finish for a grace
period; jobs still running then are handed back to the queue for another worker (the caller
then ends the process, which releases each request's lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from procrastinate.exceptions import ConnectorException
from procrastinate.worker import Worker

from goldenpath.execution.queue import QUEUE, Queue
from goldenpath.settings import Settings
from goldenpath.store.outage import Outage, QuietOutage, is_database_unreachable

logger = logging.getLogger(__name__)

# Where Procrastinate and psycopg's pool log each failure of a lost connection.
LIBRARY_LOGGERS = ("procrastinate.worker", "procrastinate.utils", "psycopg.pool")


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int
    heartbeat_seconds: float
    stalled_after_seconds: float
    # How long running jobs may take to finish once the worker is asked to stop.
    grace_seconds: float = 30.0
    name: str = "goldenpath-worker"
    # How often an idle worker looks for jobs that no notification announces: retries due
    # (a busy request's, 2 s later) and jobs put back from dead workers (`Queue.requeue` does
    # notify, but a worker that was busy then finds them this way).
    poll_seconds: float = 1.0


class Backoff:
    """Waits of 0.5, 1, 2, 4... seconds up to ``longest``, each with up to 25 % jitter so that
    workers restarted together do not knock on the database together. A probe is one connection
    attempt: cheap enough every 5 s, and a longer wait is time the database is back unused."""

    def __init__(self, first: float = 0.5, longest: float = 5.0) -> None:
        self._first, self._longest = first, longest
        self._next = first

    def reset(self) -> None:
        self._next = self._first

    def next(self) -> float:
        wait, self._next = self._next, min(self._longest, self._next * 2)
        return wait * random.uniform(0.75, 1.0)  # noqa: S311 (jitter, not a secret)


async def run_worker(
    queue: Queue,
    options: WorkerOptions,
    *,
    stop: asyncio.Event | None = None,
    install_signal_handlers: bool = False,
) -> int:
    """Run until ``stop`` is set (or SIGTERM/SIGINT with ``install_signal_handlers``, or the
    task is cancelled). Returns how many jobs were still running after the grace period and
    were handed back to the queue: while any is, its thread still runs in this process, and
    the caller should end the process soon."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    # Procrastinate runs each (synchronous) job on the loop's default executor, whose threads
    # number min(32, cores + 4): 6 on two cores, whatever the concurrency asked for.
    loop.set_default_executor(
        ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="goldenpath-job")
    )
    if install_signal_handlers:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    outage = Outage(logger, "the worker claims no jobs and reconnects with backoff")
    quiet = QuietOutage(outage)
    noisy = (*LIBRARY_LOGGERS, f"procrastinate.worker.{options.name}")
    quiet.install(*noisy)
    backoff = Backoff()
    try:
        while not stop.is_set():
            try:
                if await _database_answers(queue.conninfo):
                    async with queue.app.open_async():
                        outage.recovered()
                        backoff.reset()
                        released = await _run_once(queue, options, stop)
                        if stop.is_set():
                            return released
                    logger.info("the worker stopped by itself; starting a new one")
                else:
                    outage.failed(ConnectionError("no answer to a connection attempt"))
            except Exception as exc:
                if is_database_unreachable(exc):
                    outage.failed(exc)
                else:
                    logger.exception("the worker failed; starting a new one")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff.next())
    except asyncio.CancelledError:
        # Cancelled from outside (the API's lifespan, a test's thread): already stopping.
        stop.set()
        raise
    finally:
        quiet.remove(*noisy)
    return 0


def wait_for_database(conninfo: str) -> None:
    """Return once the database answers. A worker started during an outage waits here, with
    the backoff it reconnects with, instead of failing its start: exiting to be restarted over
    and over by its supervisor would spend the machine's CPU on imports."""
    outage = Outage(logger, "the worker starts once it is back")
    backoff = Backoff()
    while True:
        try:
            psycopg.connect(conninfo, connect_timeout=5).close()
        except psycopg.Error as exc:
            outage.failed(exc)
            time.sleep(backoff.next())
            continue
        outage.recovered()
        return


async def _database_answers(conninfo: str) -> bool:
    try:
        connection = await psycopg.AsyncConnection.connect(conninfo, connect_timeout=5)
    except psycopg.Error:
        return False
    await connection.close()
    return True


async def _run_once(queue: Queue, options: WorkerOptions, stop: asyncio.Event) -> int:
    worker = Worker(
        app=queue.app,
        queues=[QUEUE],
        name=options.name,
        concurrency=options.concurrency,
        update_heartbeat_interval=options.heartbeat_seconds,
        stalled_worker_timeout=options.stalled_after_seconds,
        install_signal_handlers=False,
        delete_jobs="successful",
        fetch_job_polling_interval=options.poll_seconds,
    )
    running = asyncio.create_task(
        worker.run(),  # type: ignore[no-untyped-call]
        name="procrastinate-worker",
    )
    recovery = asyncio.create_task(queue.recover_stalled_forever(options.stalled_after_seconds))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # the database went away (raises), or it stopped itself
            return 0
        worker.stop()  # type: ignore[no-untyped-call]
        finished, _ = await asyncio.wait({running}, timeout=options.grace_seconds)
        if finished:
            running.result()
            return 0
        return await _release(queue, worker)
    except asyncio.CancelledError:
        worker.stop()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(running), options.grace_seconds)
        raise
    finally:
        for side in (recovery, stopping):
            side.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await side


async def _release(queue: Queue, worker: Worker) -> int:
    """Hand the jobs still running back to the queue, for another worker to take now (a
    request's lock stays with this process until it ends, so nobody runs it twice)."""
    if worker.worker_id is None:
        return 0
    manager = queue.app.job_manager
    jobs = list(await manager.list_jobs_async(worker_id=worker.worker_id, status="doing"))
    for job in jobs:
        with contextlib.suppress(ConnectorException):  # finished meanwhile: nothing to hand back
            await manager.retry_job(job)
    logger.warning(
        "%d job(s) still running after the grace period were handed back to the queue", len(jobs)
    )
    return len(jobs)


def worker_options(settings: Settings, *, concurrency: int | None = None) -> WorkerOptions:
    return WorkerOptions(
        concurrency=concurrency or settings.worker_concurrency,
        heartbeat_seconds=settings.worker_heartbeat_seconds,
        stalled_after_seconds=settings.stalled_after_seconds,
        grace_seconds=settings.shutdown_grace_seconds,
    )
