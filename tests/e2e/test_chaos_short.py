"""A short chaos run (`tests.e2e.chaos`, which `bench/chaos.py` runs at scale): a few requests
while workers are SIGKILLed, the platform's PostgreSQL (a server of the test's own) stops for a
few seconds and its Redis backend is killed. Every request ends, once, leaving nothing in the
backends the catalog does not hold; the API answers 503, never 500, while the database is
away."""

from __future__ import annotations

import pytest

from tests.e2e.chaos import run_chaos

pytestmark = pytest.mark.slow


def test_a_short_chaos_run_loses_strands_and_leaves_nothing() -> None:
    figures = run_chaos(
        requests=18,
        outage=5,
        redis_down=3,
        kill_every=(3, 4),
        rate=2,
        worker_count=2,
        concurrency=4,
        patience=150,
        log=print,
    )
    assert figures.accepted == 18
    assert figures.worker_kills >= 2, figures
    counted = (figures.lost, figures.stuck, figures.duplicated, figures.orphaned)
    assert counted == (0, 0, 0, 0), figures
    assert figures.succeeded + figures.failed + figures.other_terminal == 18
    answered = {what.rsplit(" ", 1)[-1] for what in figures.outage_answers}
    assert answered == {"503"}, figures.outage_answers
    assert {"GET /readyz 503", "POST /api/v1/requests 503"} <= set(figures.outage_answers)
    assert figures.submit_5xx_other_than_503 == 0
