"""The queue: Procrastinate over the platform's PostgreSQL.

It claims work and hands it to the runner; it knows nothing of steps or actions. A request's
job is deferred on the same connection, inside the same transaction, as the request row, so
neither can exist without the other. Jobs of a worker that stops sending heartbeats (killed,
its machine gone) are put back in the queue by `recover_stalled_jobs`; housekeeping runs as
Procrastinate periodic tasks, one schedule for the whole cluster. Running a worker through a
database outage is `execution.worker`'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import procrastinate
import psycopg
import sqlalchemy as sa
from procrastinate import RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException

from goldenpath.errors import BackendUnavailable
from goldenpath.store.outage import is_database_unreachable

logger = logging.getLogger(__name__)

QUEUE = "goldenpath"
RUN_REQUEST = "goldenpath.run_request"
DESTROY_RESOURCE = "goldenpath.destroy_resource"
NOTIFY = "goldenpath.notify"
SLACK_SYNC = "goldenpath.slack_sync"
SLACK_ATTEMPTS = 12


@dataclass(frozen=True)
class Periodic:
    """Housekeeping that runs every ``seconds`` somewhere in the cluster (not once per worker)."""

    name: str
    seconds: float
    run: Callable[[], None]


def every(seconds: float) -> str:
    """A cron expression (with croniter's sixth field for seconds) firing every ``seconds``,
    rounded to what cron can say: whole seconds below a minute, minutes below an hour, hours."""
    whole = max(1, round(seconds))
    if whole < 60:
        return f"* * * * * */{whole}"
    if whole < 3600:
        return f"*/{max(1, whole // 60)} * * * *"
    return f"0 */{min(23, whole // 3600)} * * *"


class Queue:
    """The Procrastinate app and the two tasks the platform defers."""

    def __init__(
        self,
        conninfo: str,
        run_request: Callable[[str], None],
        destroy_resource: Callable[[str], None],
        notify: Callable[[dict[str, Any]], None] | None = None,
        slack_sync: Callable[[str], None] | None = None,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.conninfo = conninfo
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
            self.app.task(name=SLACK_SYNC, queue=QUEUE)(self._until_slack_answers(slack_sync))
        self.slack_enabled = slack_sync is not None
        for job in periodic:
            self._schedule(job)

        # Deferring goes through a second app with a synchronous connector: the worker's app
        # is opened asynchronously, and an async connector cannot use our sync connection.
        self._deferrer = procrastinate.App(
            connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo)
        )

    def _schedule(self, job: Periodic) -> None:
        """One schedule for the cluster: every worker's deferrer proposes each tick and the
        database keeps one job per tick. The lock runs one at a time; the queueing lock keeps a
        slow one from piling up behind itself. A failed run is not retried: the next tick is."""

        def run(timestamp: int) -> None:
            job.run()

        task = self.app.task(name=job.name, queue=QUEUE, lock=job.name, queueing_lock=job.name)(run)
        self.app.periodic(cron=every(job.seconds), periodic_id=job.name)(task)

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

    def _until_slack_answers(self, slack_sync: Callable[[str], None]) -> Callable[..., None]:
        """The Slack refresh job: while Slack fails (429, 5xx, down), it queues itself again
        after a back-off (3, 5, 9, 17 s..., about 2 hours in all). Not Procrastinate's own
        retry: a retried job takes back its queueing lock, which a newer refresh deferred
        while this one ran may hold (a unique violation that would leave the job stuck)."""

        def sync(request_id: str, attempt: int = 0) -> None:
            try:
                slack_sync(request_id)
            except BackendUnavailable as exc:
                if attempt + 1 >= SLACK_ATTEMPTS:
                    raise
                wait = 1 + 2 ** (attempt + 1)
                logger.warning(
                    "Slack messages of request %s: %s; trying again in %s s",
                    request_id,
                    exc.message,
                    wait,
                )
                self._defer_slack_retry(request_id, attempt + 1, wait)

        return sync

    def _defer_slack_retry(self, request_id: str, attempt: int, wait: int) -> None:
        key = f"slack:{request_id}"
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            deferrer = self._deferrer.configure_task(
                SLACK_SYNC,
                queue=QUEUE,
                lock=key,
                queueing_lock=key,
                schedule_in={"seconds": wait},
                connection=conn,
            )
            # A newer refresh already waiting shows the latest state anyway.
            with contextlib.suppress(AlreadyEnqueued):
                deferrer.defer(request_id=request_id, attempt=attempt)

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

    async def recover_stalled_forever(self, stalled_after_seconds: float) -> None:
        """Recover stalled jobs on a short period of its own, beside the worker's job slots, so
        neither a long job nor a busy queue delays putting a dead worker's jobs back."""
        interval = max(1.0, stalled_after_seconds / 2)
        while True:
            try:
                await self.recover_stalled_jobs(stalled_after_seconds)
            except Exception as exc:
                if not is_database_unreachable(exc):
                    logger.exception("stalled job recovery failed; will try again")
                # An unreachable database stops the worker too, which says so once.
            await asyncio.sleep(interval)


def _moved_meanwhile(exc: ConnectorException) -> bool:
    """Whether Procrastinate refused to retry a job because it is no longer ``doing`` (its
    SQL function raises "Job was not found or has an invalid status to retry")."""
    cause = exc.__cause__
    return isinstance(cause, psycopg.errors.RaiseException) and "Job was not found" in str(cause)
