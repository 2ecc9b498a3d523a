"""When a request's job runs again: passing states (a lost database, a lost lock, a request
still locked by a dead worker) however often they happened; a defect a bounded number of times."""

from __future__ import annotations

import psycopg
import pytest
from procrastinate import RetryStrategy
from procrastinate.jobs import Job

from goldenpath.errors import LockLost, RequestBusy
from goldenpath.execution.queue import UntilDone

STRATEGY = UntilDone(RetryStrategy(max_attempts=5, wait=2, exponential_wait=2))


def job(attempts: int) -> Job:
    return Job(
        id=1, queue="goldenpath", lock=None, queueing_lock=None, task_name="t", attempts=attempts
    )


@pytest.mark.parametrize(
    "exception",
    [
        RequestBusy(request_id="r1"),
        LockLost(key="goldenpath:request:r1"),
        psycopg.OperationalError("connection is lost"),
    ],
    ids=["request busy", "lock lost", "database lost"],
)
@pytest.mark.parametrize("attempts", [0, 4, 40])
def test_a_passing_state_is_retried_soon_however_often(
    exception: BaseException, attempts: int
) -> None:
    decision = STRATEGY.get_retry_decision(exception=exception, job=job(attempts))
    assert decision is not None and decision.retry_at is not None


def test_a_defect_is_retried_a_bounded_number_of_times() -> None:
    defect = ValueError("a bug")
    assert STRATEGY.get_retry_decision(exception=defect, job=job(0)) is not None
    assert STRATEGY.get_retry_decision(exception=defect, job=job(5)) is None
