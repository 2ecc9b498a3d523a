"""The REST API (FastAPI), versioned under ``/api/v1``: a thin face over the use cases.

Every endpoint but ``/healthz``, ``/readyz`` and ``/metrics`` needs a bearer credential (an API
token or an OIDC JWT); errors share one JSON shape (`api.errors`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST

from goldenpath import __version__
from goldenpath.api import docs as api_docs
from goldenpath.api import errors as api_errors
from goldenpath.api import outage as api_outage
from goldenpath.api.body_limit import BodyLimitMiddleware
from goldenpath.api.day2_routes import day2_router
from goldenpath.api.health import health_router
from goldenpath.api.identity_routes import audit_router, identity_router
from goldenpath.api.insight_routes import MAX_UPLOAD, insight_router
from goldenpath.api.json_text import JsonTextMiddleware
from goldenpath.api.metrics import HttpMetricsMiddleware, Metrics
from goldenpath.api.request_ids import RequestIdMiddleware
from goldenpath.api.request_routes import request_router
from goldenpath.api.resource_routes import resource_router
from goldenpath.api.upgrade_routes import upgrade_router
from goldenpath.app import Platform
from goldenpath.execution.worker_processes import WorkerProcesses
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.gitserver.routes import MAX_PUSH_BYTES
from goldenpath.logs import adopt_uvicorn_loggers

TAGS: list[dict[str, Any]] = [
    {"name": "templates", "description": "The catalog of golden paths and their forms."},
    {"name": "requests", "description": "Runs of golden paths: submit, watch, cancel, retry."},
    {"name": "approvals", "description": "Requests waiting for a human decision."},
    {"name": "resources", "description": "What requests created, and their destruction."},
    {"name": "identity", "description": "Users, teams and API tokens."},
    {"name": "audit", "description": "The tamper-evident log of every decision and change."},
    {"name": "insights", "description": "Ticket history, time and money saved, what next."},
    {"name": "health", "description": "Liveness and metrics."},
]


def create_api(
    platform: Platform,
    *,
    run_worker: bool = False,
    worker_processes: WorkerProcesses | None = None,
    close_on_shutdown: bool = False,
) -> FastAPI:
    """``run_worker``: run the worker in this process (on a thread of its own); else
    ``worker_processes`` are started once the API is about to serve (so their start does not
    slow the API's on a small machine) and stopped after it has drained its requests."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        adopt_uvicorn_loggers()  # uvicorn gave its loggers handlers of their own just before
        # Not on this event loop: each of a job's awaits would wait behind the HTTP traffic.
        worker = None
        if run_worker:
            concurrency = platform.settings.worker_concurrency
            worker = WorkerThread(platform, concurrency=concurrency).start()
        if worker_processes is not None:
            worker_processes.start()
        try:
            yield
        finally:
            if worker_processes is not None:
                await asyncio.to_thread(worker_processes.stop)
            if worker is not None:
                # uvicorn has drained the HTTP requests: now let running jobs finish.
                await asyncio.to_thread(worker.stop, platform.settings.shutdown_grace_seconds + 5)
            if close_on_shutdown:
                platform.close()

    api = FastAPI(
        title="Golden Path",
        version=__version__,
        description="Self-service golden paths: request, watch, and manage what you own.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # `api_docs` serves Swagger UI from local files
        redoc_url=None,
        lifespan=lifespan,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id_of,
    )
    api_errors.install(api)
    api_docs.install(api)
    api_outage.install(api, platform.database)
    api.add_middleware(JsonTextMiddleware)
    api.add_middleware(
        BodyLimitMiddleware,
        limit=platform.settings.max_body_bytes,
        larger={"/api/v1/insights/tickets": MAX_UPLOAD, "/git/": MAX_PUSH_BYTES},
    )
    api.add_middleware(RequestIdMiddleware)
    api.state.platform = platform

    metrics = Metrics(platform.database)
    api.add_middleware(HttpMetricsMiddleware, metrics=metrics)

    @api.get(
        "/metrics",
        operation_id="getMetrics",
        tags=["health"],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    def get_metrics() -> Response:
        """Prometheus metrics: HTTP traffic, requests and lead times per golden path, the job
        queue, guardrail findings, the process."""
        return metrics.response()

    for router in (
        health_router(platform),
        request_router(platform),
        resource_router(platform),
        identity_router(platform),
        audit_router(platform),
        insight_router(platform),
        upgrade_router(platform),
        day2_router(platform),
    ):
        api.include_router(router)
    mount_extras(api, platform)
    return api


def operation_id_of(route: APIRoute) -> str:
    """Every route is given its ``operation_id`` by hand (what generated clients call it); one
    that was not gets its function's name in camelCase, never FastAPI's path-derived form."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def mount_extras(api: FastAPI, platform: Platform) -> None:
    """Faces that live beside the API: the portal, and the git server for local repositories
    (HTTP Basic with an API token as the password, like any git host; only the owning team's
    members and platform admins reach a repository)."""
    from goldenpath.actions.ci import local as local_ci
    from goldenpath.actions.git.local import repository_marker
    from goldenpath.gitserver import mount
    from goldenpath.gitserver.routes import served_root
    from goldenpath.slack import mount_slack
    from goldenpath.store.action_state import SealedStateStore
    from goldenpath.web import mount_portal

    mount_portal(api, platform)
    mount_slack(api, platform)
    directory, service = platform.directory, platform.service

    def may_use(token: str, repository: str, push: bool) -> str:
        actor = directory.authenticate(token)
        service.authorize_repository(actor, repository, push=push)
        return actor.user

    root = served_root(platform.settings)
    state_store = platform.runner.state_store

    def hook_secrets(repository: str) -> dict[str, str]:
        if not isinstance(state_store, SealedStateStore):
            return {}
        stored = state_store.read_prefix(local_ci.repository_prefix(repository))
        return local_ci.hook_environment(stored, repository_marker(root / f"{repository}.git"))

    mount(api, root, authenticate=may_use, hook_environment=hook_secrets)
