"""The REST API (FastAPI), versioned under ``/api/v1``. A thin face over `Service`.

Until identity arrives, the caller names itself in the ``X-Goldenpath-User`` header and the
owner team in the request body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Header, Query, Response
from fastapi.concurrency import run_in_threadpool

from goldenpath import __version__
from goldenpath.api import errors as api_errors
from goldenpath.api.schemas import (
    Decision,
    ErrorResponse,
    LogView,
    PlanResponse,
    RequestCreate,
    RequestView,
    ResourceView,
    SecretsView,
    TemplateDetail,
    TemplateSummary,
)
from goldenpath.app import Platform
from goldenpath.execution.planner import Requester

logger = logging.getLogger(__name__)

User = Annotated[
    str,
    Header(
        alias="X-Goldenpath-User",
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$",
        description="Who is asking (until tokens arrive).",
    ),
]
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (403, 404, 409, 422, 503)
}


def create_api(platform: Platform, *, run_worker: bool = False) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker: asyncio.Task[None] | None = None
        if run_worker:
            settings = platform.settings
            worker = asyncio.create_task(
                platform.queue.run_worker(
                    concurrency=settings.worker_concurrency,
                    heartbeat_seconds=settings.worker_heartbeat_seconds,
                    stalled_after_seconds=settings.stalled_after_seconds,
                    install_signal_handlers=False,
                )
            )
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    api = FastAPI(
        title="Golden Path",
        version=__version__,
        description="Self-service golden paths: request, watch, and manage what you own.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    api_errors.install(api)
    service = platform.service
    v1 = APIRouter(prefix="/api/v1", responses=ERRORS)

    @api.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        with platform.database.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok", "database": "ok", "version": __version__}

    @v1.get("/templates", tags=["templates"])
    def list_templates() -> list[TemplateSummary]:
        return [TemplateSummary.of(t) for t in service.templates()]

    @v1.get("/templates/{name}", tags=["templates"])
    def show_template(name: str) -> TemplateDetail:
        return TemplateDetail.of(service.template(name))

    @v1.post(
        "/requests",
        tags=["requests"],
        status_code=202,
        responses={200: {"model": PlanResponse, "description": "The plan of a dry run."}},
    )
    async def create_request(
        body: RequestCreate, response: Response, user: User = "anonymous"
    ) -> RequestView | PlanResponse:
        requester = Requester(user=user, team=body.team or platform.settings.default_team)
        if body.dry_run:
            preview = await run_in_threadpool(
                service.dry_run,
                body.template,
                body.parameters,
                requester,
                exception=body.justification is not None,
            )
            response.status_code = 200
            return PlanResponse(
                template=preview.template.name,
                version=preview.template.version,
                parameters=preview.parameters,
                plan=preview.plan,
                verdict=preview.verdict.as_dict(),
            )
        record = await run_in_threadpool(
            service.submit,
            body.template,
            body.parameters,
            requester,
            justification=body.justification,
        )
        response.headers["Location"] = f"/api/v1/requests/{record.id}"
        return RequestView.of(record, with_plan=True)

    @v1.get("/requests", tags=["requests"])
    def list_requests(
        status: Annotated[str | None, Query(max_length=32)] = None,
        template: Annotated[str | None, Query(max_length=100)] = None,
        team: Annotated[str | None, Query(max_length=63)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[RequestView]:
        found = service.requests(status=status, template=template, team=team, limit=limit)
        return [RequestView.of(r) for r in found]

    @v1.get("/requests/{request_id}", tags=["requests"])
    def show_request(request_id: str) -> RequestView:
        return RequestView.of(service.request(request_id), with_plan=True)

    @v1.post("/requests/{request_id}/approve", tags=["approvals"])
    def approve_request(
        request_id: str, decision: Decision, user: User = "anonymous"
    ) -> RequestView:
        return RequestView.of(service.approve(request_id, user, decision.comment))

    @v1.post("/requests/{request_id}/reject", tags=["approvals"])
    def reject_request(
        request_id: str, decision: Decision, user: User = "anonymous"
    ) -> RequestView:
        return RequestView.of(service.reject(request_id, user, decision.comment))

    @v1.get("/requests/{request_id}/logs", tags=["requests"])
    def request_logs(request_id: str, after: Annotated[int, Query(ge=0)] = 0) -> list[LogView]:
        return [LogView.of(line) for line in service.logs(request_id, after)]

    @v1.post("/requests/{request_id}/secrets/reveal", tags=["requests"])
    def reveal_secrets(request_id: str, user: User = "anonymous") -> SecretsView:
        return SecretsView(request_id=request_id, secrets=service.reveal_secrets(request_id, user))

    @v1.get("/resources", tags=["resources"])
    def list_resources(
        team: Annotated[str | None, Query(max_length=63)] = None,
        include_destroyed: bool = False,
    ) -> list[ResourceView]:
        found = service.resources(team=team, include_destroyed=include_destroyed)
        return [ResourceView.of(r) for r in found]

    @v1.get("/resources/{resource_id}", tags=["resources"])
    def show_resource(resource_id: str) -> ResourceView:
        return ResourceView.of(service.resource(resource_id))

    @v1.delete("/resources/{resource_id}", tags=["resources"], status_code=202)
    def destroy_resource(resource_id: str, user: User = "anonymous") -> ResourceView:
        return ResourceView.of(service.destroy(resource_id, user))

    api.include_router(v1)
    return api
