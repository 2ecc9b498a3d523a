"""Prometheus metrics (prometheus-client): the HTTP traffic this process served, the process
itself, and the platform's state read from the database at each scrape (so any process shows
every request, job and verdict).

Set ``PROMETHEUS_MULTIPROC_DIR`` (an empty, writable folder) when `goldenpath api --workers N`
runs several processes behind one port: each process's HTTP figures are then kept there and
summed at every scrape (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import Counter as PromCounter
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector as PythonInfoCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goldenpath.store import tables
from goldenpath.store.database import Database

LEAD_TIME_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 86400)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# A path no route matched: one label value, so scanners cannot grow the series without bound.
UNMATCHED = "<unmatched>"


class Metrics:
    """This process's registry: HTTP figures, process figures, and the platform's state."""

    def __init__(self, database: Database) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = PromCounter(
            "goldenpath_http_requests",
            "HTTP requests served, by method, route template and status code.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "goldenpath_http_request_duration_seconds",
            "Time to answer an HTTP request (until the response started), by route template.",
            ("method", "route"),
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        PythonInfoCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.state = PlatformState(database)
        self.registry.register(self.state)

    def response(self) -> Response:
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Every API process's HTTP figures, summed; the platform's state as always.
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            registry.register(self.state)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class HttpMetricsMiddleware:
    """Counts every HTTP request by the route template it matched (``/api/v1/requests/
    {request_id}``, never the id itself) and times it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500, "seconds": 0.0}

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
                status["seconds"] = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = str(scope.get("method", ""))
            seconds = status["seconds"] or time.perf_counter() - started
            self.metrics.http_requests.labels(method, route, str(status["code"])).inc()
            self.metrics.http_duration.labels(method, route).observe(seconds)


class PlatformState(Collector):
    """Requests by path and status, lead times per path, the job queue by task and status,
    guardrail findings, and the ticket baseline: read from the database at each scrape."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def describe(self) -> Iterable[Metric]:
        return []  # computed at each scrape; nothing to check at registration

    def collect(self) -> Iterable[Metric]:
        with self.database.begin() as conn:
            yield from _requests(conn)
            yield from _jobs(conn)
            yield from _verdicts(conn)
            yield _ticket_baselines(conn)


def _requests(conn: sa.Connection) -> Iterable[Metric]:
    requests = tables.requests
    by_status = GaugeMetricFamily(
        "goldenpath_requests", "Requests by template and status.", labels=("template", "status")
    )
    rows = conn.execute(
        sa.select(requests.c.template_name, requests.c.status, sa.func.count()).group_by(
            requests.c.template_name, requests.c.status
        )
    ).all()
    for template, status, count in rows:
        by_status.add_metric((template, status), count)
    yield by_status
    lead_times = HistogramMetricFamily(
        "goldenpath_request_lead_time_seconds",
        "Submission to success, per golden path.",
        labels=("template",),
    )
    finished = conn.execute(
        sa.select(
            requests.c.template_name,
            sa.func.extract("epoch", requests.c.finished_at - requests.c.created_at),
        ).where(requests.c.status == "succeeded", requests.c.finished_at.is_not(None))
    ).all()
    per_template: dict[str, list[float]] = {}
    for template, seconds in finished:
        per_template.setdefault(template, []).append(float(seconds))
    for template, values in sorted(per_template.items()):
        buckets: list[tuple[str, float]] = [
            (f"{bound:g}", sum(1 for v in values if v <= bound)) for bound in LEAD_TIME_BUCKETS
        ]
        buckets.append(("+Inf", len(values)))
        lead_times.add_metric((template,), buckets, sum(values))
    yield lead_times


def _jobs(conn: sa.Connection) -> Iterable[Metric]:
    rows = conn.execute(
        sa.text(
            "SELECT task_name, status::text, count(*) FROM procrastinate_jobs "
            "GROUP BY task_name, status"
        )
    ).all()
    depth = GaugeMetricFamily("goldenpath_queue_depth", "Jobs waiting for a worker.")
    depth.add_metric((), sum(count for _, status, count in rows if status == "todo"))
    yield depth
    jobs = GaugeMetricFamily(
        "goldenpath_jobs",
        "Jobs in the queue by task and status (todo, doing, failed, cancelled, aborted; "
        "succeeded jobs are deleted, the requests' outcomes are goldenpath_requests).",
        labels=("task", "status"),
    )
    for task, status, count in rows:
        jobs.add_metric((task, status), count)
    yield jobs


def _verdicts(conn: sa.Connection) -> Iterable[Metric]:
    by_policy: Counter[tuple[str, str]] = Counter()
    verdicts = conn.execute(
        sa.select(tables.requests.c.verdict).where(tables.requests.c.verdict.is_not(None))
    ).scalars()
    for verdict in verdicts:
        for group, rule in (("violations", "deny"), ("approvals", "require_approval")):
            for item in _items(verdict, group):
                by_policy[(str(item.get("policy")), rule)] += 1
    found = CounterMetricFamily(
        "goldenpath_verdicts",
        "Guardrail findings on requests, by policy and rule.",
        labels=("policy", "rule"),
    )
    for (policy, rule), count in sorted(by_policy.items()):
        found.add_metric((policy, rule), count)
    yield found


def _items(verdict: Any, group: str) -> list[dict[str, Any]]:
    found = verdict.get(group, []) if isinstance(verdict, dict) else []
    return [item for item in found if isinstance(item, dict)]


def _ticket_baselines(conn: sa.Connection) -> Metric:
    """The ticket baseline beside the platform's lead-time histogram, so one dashboard
    compares them."""
    t, o = tables.tickets, tables.ticket_overrides
    path = sa.func.coalesce(o.c.class_name, t.c.path)
    seconds = sa.func.extract("epoch", t.c.resolved_at - t.c.created_at)
    query = (
        sa.select(path, sa.func.percentile_cont(0.5).within_group(seconds))
        .select_from(
            t.outerjoin(o, sa.and_(o.c.source == t.c.source, o.c.ticket_key == t.c.ticket_key))
        )
        .where(t.c.resolved_at.is_not(None), path.is_not(None))
        .group_by(path)
    )
    found = GaugeMetricFamily(
        "goldenpath_ticket_baseline_seconds",
        "Median created to resolved of the tickets a golden path replaces (imported history).",
        labels=("template",),
    )
    for name, median in sorted(conn.execute(query).all()):
        found.add_metric((name,), float(median))
    return found
