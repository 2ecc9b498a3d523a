"""/metrics through prometheus-client: the platform's state read from the database (requests,
lead time per golden path, the job queue), HTTP traffic by route template, the process."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from tests.conftest import BackgroundWorker, member, served, wait_for_request

ALICE = member("alice", "payments")


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found[(name, frozenset(labels.items()))]


def test_metrics_show_requests_lead_times_jobs_http_and_the_process(
    platform: Platform, unique_name: Callable[[str], str]
) -> None:
    with BackgroundWorker(platform):
        request = platform.service.submit("postgres-database", {"name": unique_name("m")}, ALICE)
        assert wait_for_request(platform, request.id).status == "succeeded"
    platform.service.submit("new-repo", {"name": unique_name("q").replace("_", "-")}, ALICE)

    with served(create_api(platform)) as url, httpx.Client(base_url=url, timeout=30) as client:
        missing = f"/api/v1/requests/{uuid.uuid4()}"
        assert client.get(missing).status_code == 401  # no token: counted all the same
        client.get("/api/v1/no/such/path")
        scraped = client.get("/metrics")

    assert scraped.headers["content-type"] == "text/plain; version=1.0.0; charset=utf-8"
    found = samples(scraped.text)
    assert (
        value(found, "goldenpath_requests", template="postgres-database", status="succeeded") == 1
    )
    assert value(found, "goldenpath_requests", template="new-repo", status="queued") == 1
    lead = "goldenpath_request_lead_time_seconds"
    assert value(found, f"{lead}_count", template="postgres-database") == 1
    assert value(found, f"{lead}_bucket", template="postgres-database", le="+Inf") == 1
    assert value(found, f"{lead}_sum", template="postgres-database") > 0
    waiting = [
        v
        for (name, labels), v in found.items()
        if name == "goldenpath_jobs" and ("status", "todo") in labels
    ]
    assert value(found, "goldenpath_queue_depth") == sum(waiting) >= 1  # no worker now
    assert value(found, "goldenpath_jobs", task="goldenpath.run_request", status="todo") == 1

    route = "/api/v1/requests/{request_id}"
    http = "goldenpath_http_requests_total"
    assert value(found, http, method="GET", route=route, status="401") == 1
    assert value(found, http, method="GET", route="<unmatched>", status="404") == 1
    duration = "goldenpath_http_request_duration_seconds"
    assert value(found, f"{duration}_count", method="GET", route=route) == 1
    assert not [key for key in found if missing in str(key)]  # ids never become labels
    assert found[("process_resident_memory_bytes", frozenset())] > 0
