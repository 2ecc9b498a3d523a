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
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import procrastinate
import psycopg
import sqlalchemy as sa
from procrastinate import BaseRetryStrategy, RetryDecision, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException, UniqueViolation
from procrastinate.jobs import Job, Status

from goldenpath.errors import BackendUnavailable, LockLost, RequestBusy
from goldenpath.store.outage import is_database_unreachable

logger = logging.getLogger(__name__)

QUEUE = "goldenpath"
RUN_REQUEST = "goldenpath.run_request"
DESTROY_RESOURCE = "goldenpath.destroy_resource"
NOTIFY = "goldenpath.notify"
SLACK_SYNC = "goldenpath.slack_sync"
SLACK_POST = "goldenpath.slack_post"
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


class UntilDone(BaseRetryStrategy):
    """When a request's (or a destroy's) job runs again.

    A lost database, a lost run lock and a request still locked by a dead worker's session are
    passing states, not the job's failure: it runs again in ``soon`` seconds, however often that
    happened. A worker killed mid-job counts as an attempt too (its job is put back with one
    more), so a bounded count would end with a job given up and its request left ``running``
    after a run of bad luck. Anything else is a defect: tried ``bounded``'s way.
    """

    def __init__(self, bounded: RetryStrategy, soon: int = 2) -> None:
        self._bounded, self._soon = bounded, soon

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, RequestBusy | LockLost) or is_database_unreachable(exception):
            return RetryDecision(retry_in={"seconds": self._soon})
        return self._bounded.get_retry_decision(exception=exception, job=job)


class Queue:
    """The Procrastinate app and the two tasks the platform defers."""

    def __init__(
        self,
        conninfo: str,
        run_request: Callable[[str], None],
        destroy_resource: Callable[[str], None],
        notify: Callable[[dict[str, Any]], None] | None = None,
        slack_sync: Callable[[str], None] | None = None,
        slack_post: Callable[[str, str], None] | None = None,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.conninfo = conninfo
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=conninfo),
        )
        retry = UntilDone(RetryStrategy(max_attempts=5, wait=2, exponential_wait=2))
        # Webhook receivers, and the backends a destroy needs, are often down for a while: keep
        # trying for a long while (waits of 7, 9, 13, 21, 37 s..., doubling, 12 in all).
        patient = RetryStrategy(max_attempts=12, wait=5, exponential_wait=2)

        self.app.task(name=RUN_REQUEST, queue=QUEUE, retry=retry)(run_request)
        self.app.task(name=DESTROY_RESOURCE, queue=QUEUE, retry=UntilDone(patient))(
            destroy_resource
        )
        if notify is not None:
            self.app.task(name=NOTIFY, queue=QUEUE, retry=patient)(notify)
        if slack_post is not None:
            self.app.task(name=SLACK_POST, queue=QUEUE, retry=patient)(slack_post)
        self.slack_posts = slack_post is not None
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

    def defer_slack_post(self, conn: sa.Connection, channel: str, text: str) -> None:
        """Queue a message to a Slack channel in the transaction that records its reason (a
        no-op without Slack)."""
        if self.slack_posts:
            self._defer(conn, SLACK_POST, None, channel=channel, text=text)

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
        error. A job whose queueing lock a newer one waiting holds (a periodic task's next
        tick, a newer Slack refresh) is superseded by it: it ends ``aborted``. Nothing one job
        does stops the rest of the round, except the database going away.
        """
        count = 0
        for job in stalled:
            try:
                count += await self._put_back(job)
            except Exception as exc:
                if is_database_unreachable(exc):
                    raise
                logger.exception("could not put back job %s (%s)", job.id, job.task_name)
        return count

    async def _put_back(self, job: Job) -> int:
        manager = self.app.job_manager
        try:
            await manager.retry_job(job)
        except UniqueViolation as exc:
            if "queueing_lock" not in (exc.constraint_name or ""):
                raise
            assert job.id is not None
            await manager.finish_job_by_id_async(job.id, Status.ABORTED, delete_job=False)
            logger.info(
                "job %s (%s) of a dead worker is superseded by a newer one waiting",
                job.id,
                job.task_name,
            )
            return 0
        except ConnectorException as exc:
            if not _moved_meanwhile(exc):
                raise
            logger.info("job %s was already recovered by another worker", job.id)
            return 0
        logger.warning("recovered job %s (%s) of a dead worker", job.id, job.task_name)
        await self._announce(job)
        return 1

    async def _announce(self, job: Job) -> None:
        """Wake idle workers for a job put back in the queue, as Procrastinate's trigger does
        for a new job (it fires on INSERT only: a job put back would wait for their polling)."""
        payload = json.dumps({"type": "job_inserted", "job_id": job.id})
        await self.app.connector.execute_query_async(
            "SELECT pg_notify(%(channel)s, %(payload)s),"
            " pg_notify('procrastinate_any_queue_v1', %(payload)s)",
            channel=f"procrastinate_queue_v1#{job.queue}",
            payload=payload,
        )

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
