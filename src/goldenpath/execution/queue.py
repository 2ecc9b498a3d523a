"""The queue: Procrastinate over the platform's PostgreSQL.

It claims work and hands it to the runner; it knows nothing of steps or actions. A request's
job is deferred on the same connection, inside the same transaction, as the request row, so
neither can exist without the other. Jobs of a worker that stops sending heartbeats (killed,
its machine gone) are put back in the queue by `recover_stalled_jobs`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

import procrastinate
import psycopg
import sqlalchemy as sa
from procrastinate import RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException

logger = logging.getLogger(__name__)

QUEUE = "goldenpath"
RUN_REQUEST = "goldenpath.run_request"
DESTROY_RESOURCE = "goldenpath.destroy_resource"
NOTIFY = "goldenpath.notify"
SLACK_SYNC = "goldenpath.slack_sync"


class Queue:
    """The Procrastinate app and the two tasks the platform defers."""

    def __init__(
        self,
        conninfo: str,
        run_request: Callable[[str], None],
        destroy_resource: Callable[[str], None],
        notify: Callable[[dict[str, Any]], None] | None = None,
        housekeeping: Callable[[], None] | None = None,
        slack_sync: Callable[[str], None] | None = None,
    ) -> None:
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=conninfo),
        )
        retry = RetryStrategy(max_attempts=5, wait=2, exponential_wait=2)

        self.app.task(name=RUN_REQUEST, queue=QUEUE, retry=retry)(run_request)
        self.app.task(name=DESTROY_RESOURCE, queue=QUEUE, retry=retry)(destroy_resource)
        if notify is not None:
            # Webhook receivers are often down for a while: keep trying for about an hour.
            patient = RetryStrategy(max_attempts=12, wait=5, exponential_wait=2)
            self.app.task(name=NOTIFY, queue=QUEUE, retry=patient)(notify)
        if slack_sync is not None:
            # Slack answers 429/5xx for a while at times: back off (3, 5, 9, 17 s...), ~2 hours.
            backoff = RetryStrategy(max_attempts=12, wait=1, exponential_wait=2)
            self.app.task(name=SLACK_SYNC, queue=QUEUE, retry=backoff)(slack_sync)
        self.slack_enabled = slack_sync is not None
        self._housekeeping = housekeeping

        # Deferring goes through a second app with a synchronous connector: the worker's app
        # is opened asynchronously, and an async connector cannot use our sync connection.
        self._deferrer = procrastinate.App(
            connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo)
        )

    def defer_request(self, conn: sa.Connection, request_id: str) -> int:
        """Defer the request's job inside ``conn``'s open transaction; returns the job id."""
        return self._defer(conn, RUN_REQUEST, f"request:{request_id}", request_id=request_id)

    def defer_destroy(self, conn: sa.Connection, resource_id: str) -> int:
        return self._defer(
            conn, DESTROY_RESOURCE, f"resource:{resource_id}", resource_id=resource_id
        )

    def defer_notification(self, conn: sa.Connection, payload: dict[str, Any]) -> int:
        """Queue a webhook delivery in the transaction that records what it announces."""
        return self._defer(conn, NOTIFY, None, payload=payload)

    def defer_slack_sync(self, conn: sa.Connection, request_id: str) -> None:
        """Queue a refresh of the request's Slack messages, unless one is already waiting
        (it will show the latest state anyway). One runs at a time per request."""
        if not self.slack_enabled:
            return
        key = f"slack:{request_id}"
        try:
            with conn.begin_nested():
                self._defer(conn, SLACK_SYNC, key, queueing_lock=key, request_id=request_id)
        except AlreadyEnqueued:
            pass

    def _defer(
        self,
        conn: sa.Connection,
        task: str,
        lock: str | None,
        queueing_lock: str | None = None,
        **arguments: Any,
    ) -> int:
        deferrer = self._deferrer.configure_task(
            task,
            queue=QUEUE,
            lock=lock,
            queueing_lock=queueing_lock,
            connection=conn.connection.driver_connection,
        )
        return int(deferrer.defer(**arguments))

    async def run_worker(
        self,
        *,
        concurrency: int,
        heartbeat_seconds: float,
        stalled_after_seconds: float,
        name: str = "goldenpath-worker",
        install_signal_handlers: bool = True,
    ) -> None:
        """Run a worker until cancelled (or signalled), recovering stalled jobs as it goes."""
        async with self.app.open_async():
            recovery = asyncio.create_task(self._recover_forever(stalled_after_seconds))
            try:
                await self.app.run_worker_async(
                    queues=[QUEUE],
                    name=name,
                    concurrency=concurrency,
                    update_heartbeat_interval=heartbeat_seconds,
                    stalled_worker_timeout=stalled_after_seconds,
                    install_signal_handlers=install_signal_handlers,
                    delete_jobs="successful",
                )
            finally:
                recovery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await recovery

    async def recover_stalled_jobs(self, stalled_after_seconds: float) -> int:
        """Put back in the queue every running job whose worker stopped sending heartbeats."""
        stalled = await self.app.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=stalled_after_seconds
        )
        return await self.requeue(stalled)

    async def requeue(self, stalled: Iterable[Any]) -> int:
        """Put these stalled jobs back in the queue; returns how many this call moved.

        Several workers recover at once: a job another worker has already put back is not an
        error, and never stops the rest of the round.
        """
        count = 0
        for job in stalled:
            try:
                await self.app.job_manager.retry_job(job)
            except ConnectorException as exc:
                if not _moved_meanwhile(exc):
                    raise
                logger.info("job %s was already recovered by another worker", job.id)
                continue
            logger.warning("recovered job %s (%s) of a dead worker", job.id, job.task_name)
            count += 1
        return count

    async def _recover_forever(self, stalled_after_seconds: float) -> None:
        interval = max(1.0, stalled_after_seconds / 2)
        while True:
            try:
                await self.recover_stalled_jobs(stalled_after_seconds)
                if self._housekeeping is not None:
                    await asyncio.to_thread(self._housekeeping)
            except Exception:
                logger.exception("stalled job recovery or housekeeping failed; will try again")
            await asyncio.sleep(interval)


def _moved_meanwhile(exc: ConnectorException) -> bool:
    """Whether Procrastinate refused to retry a job because it is no longer ``doing`` (its
    SQL function raises "Job was not found or has an invalid status to retry")."""
    cause = exc.__cause__
    return isinstance(cause, psycopg.errors.RaiseException) and "Job was not found" in str(cause)
