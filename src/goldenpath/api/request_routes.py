"""Templates and requests: the catalog, dry runs, submissions, watching, decisions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from goldenpath.api.auth import CurrentActor
from goldenpath.api.pages import DEFAULT, Cursor, Limit, PageView, view
from goldenpath.api.schemas import (
    BIGINT_MAX,
    BackendCheckView,
    BackendView,
    Decision,
    LogView,
    PlanResponse,
    PoliciesView,
    PolicyFileView,
    Problem,
    RequestCreate,
    RequestView,
    SecretsView,
    StepView,
    TemplateDetail,
    TemplateDryRun,
    TemplateProblemView,
    TemplateSummary,
)
from goldenpath.app import Platform
from goldenpath.identity.actor import Actor
from goldenpath.identity.directory import TEAM_NAME
from goldenpath.paging import page_of
from goldenpath.service import DryRun
from goldenpath.store.records import RequestRecord
from goldenpath.templates.model import NAME_PATTERN as TEMPLATE_NAME

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem} for status in (401, 403, 404, 409, 413, 422, 429, 503)
}
STREAM_POLL_SECONDS = 0.5

TemplateName = Annotated[str, Path(max_length=63, pattern=TEMPLATE_NAME)]
# Checked by the use cases (a malformed id is bad input, a missing one is not found).
RequestId = Annotated[str, Path(max_length=100, json_schema_extra={"format": "uuid"})]


def request_router(platform: Platform) -> APIRouter:
    service = platform.service
    router = APIRouter(prefix="/api/v1", responses=ERRORS)
    sandbox = platform.settings.sandbox

    def request_view(record: RequestRecord, *, with_plan: bool = False) -> RequestView:
        return RequestView.of(record, with_plan=with_plan, sandbox=sandbox)

    def plan_view(preview: DryRun) -> PlanResponse:
        return PlanResponse.of(preview, sandbox=sandbox)

    @router.get("/templates", operation_id="listTemplates", tags=["templates"])
    def list_templates(
        actor: CurrentActor, cursor: Cursor = None, limit: Limit = DEFAULT
    ) -> PageView[TemplateSummary]:
        found = page_of(service.templates(actor), lambda t: t.name, cursor, limit)
        return view(
            found, lambda t: TemplateSummary.of(t, [m.describe() for m in service.needs_setup(t)])
        )

    @router.get("/template-problems", operation_id="listTemplateProblems", tags=["templates"])
    def list_template_problems(actor: CurrentActor) -> list[TemplateProblemView]:
        """Admins: the template files that failed to load (they are not in ``/templates``),
        each with the field, the line and the reason."""
        return [
            TemplateProblemView(
                file=str(p.details["file"]),
                field=str(p.details["field"]),
                line=str(p.details["line"]),
                problem=str(p.details["problem"]),
                message=p.message,
            )
            for p in service.template_problems(actor)
        ]

    @router.get("/backends", operation_id="listBackends", tags=["templates"])
    def list_backends(
        actor: CurrentActor, cursor: Cursor = None, limit: Limit = DEFAULT
    ) -> PageView[BackendView]:
        """Admins: the configured backends (never their credentials), and the missing ones
        that golden paths need."""
        found = page_of(service.backends_overview(actor), lambda b: b.name, cursor, limit)
        return view(
            found,
            lambda b: BackendView(
                name=b.name, kind=b.kind, configured=b.configured, needed_by=list(b.needed_by)
            ),
        )

    @router.get("/backends/check", operation_id="checkBackends", tags=["templates"])
    async def check_backends(actor: CurrentActor) -> list[BackendCheckView]:
        """Admins: whether each configured backend answers now (a connection and a trivial
        call, each within a few seconds)."""
        checks = await run_in_threadpool(service.check_backends, actor)
        return [
            BackendCheckView(name=c.name, kind=c.kind, reachable=c.reachable, detail=c.detail)
            for c in checks
        ]

    @router.get("/policies", operation_id="listPolicies", tags=["templates"])
    def list_policies(actor: CurrentActor) -> PoliciesView:
        """The org-wide guardrails in force: each file, what reads it, and any problem."""
        policies = service.org_policies(actor)
        return PoliciesView(
            files=[PolicyFileView(**f.as_dict()) for f in policies.files],
            problems=list(policies.problems),
        )

    @router.get("/templates/{name}", operation_id="getTemplate", tags=["templates"])
    def show_template(name: TemplateName, actor: CurrentActor) -> TemplateDetail:
        template = service.template(name, actor)
        return TemplateDetail.of(template, [m.describe() for m in service.needs_setup(template)])

    @router.post("/templates/{name}/dry-run", operation_id="dryRunTemplate", tags=["templates"])
    async def dry_run_template(
        name: str, body: TemplateDryRun, actor: CurrentActor
    ) -> PlanResponse:
        """What a request of this golden path would create, and the guardrails' verdict."""
        preview = await run_in_threadpool(
            lambda: service.dry_run(name, body.parameters, actor, team=body.team)
        )
        return plan_view(preview)

    @router.post(
        "/requests",
        operation_id="createRequest",
        tags=["requests"],
        status_code=202,
        responses={200: {"model": PlanResponse, "description": "The plan of a dry run."}},
    )
    async def create_request(
        body: RequestCreate, response: Response, actor: CurrentActor
    ) -> RequestView | PlanResponse:
        """Submit a request (202), or with ``dry_run`` see its plan and verdict (200)."""
        if body.dry_run:
            preview = await run_in_threadpool(
                lambda: service.dry_run(
                    body.template,
                    body.parameters,
                    actor,
                    team=body.team,
                    exception=body.justification is not None,
                    ttl=body.ttl,
                    version=body.version,
                )
            )
            response.status_code = 200
            return plan_view(preview)
        record = await run_in_threadpool(
            lambda: service.submit(
                body.template,
                body.parameters,
                actor,
                team=body.team,
                justification=body.justification,
                ttl=body.ttl,
                version=body.version,
            )
        )
        response.headers["Location"] = f"/api/v1/requests/{record.id}"
        return request_view(record, with_plan=True)

    @router.get("/requests", operation_id="listRequests", tags=["requests"])
    def list_requests(
        actor: CurrentActor,
        status: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
        template: Annotated[str | None, Query(max_length=63, pattern=TEMPLATE_NAME)] = None,
        team: Annotated[str | None, Query(max_length=63, pattern=TEAM_NAME)] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT,
    ) -> PageView[RequestView]:
        """Requests of your teams (every team for platform admins), newest first."""
        found = service.request_page(
            actor, status=status, template=template, team=team, cursor=cursor, limit=limit
        )
        return view(found, request_view)

    @router.get(
        "/requests/{request_id}",
        operation_id="getRequest",
        tags=["requests"],
        response_model=RequestView,
    )
    def show_request(request_id: RequestId, actor: CurrentActor) -> Response:
        # The status poll, called many times a request: the view is built as the schema says,
        # so it is serialized once here instead of dumped, validated again and encoded.
        shown = request_view(service.request(request_id, actor), with_plan=True)
        return Response(shown.model_dump_json(), media_type="application/json")

    @router.post("/requests/{request_id}/cancel", operation_id="cancelRequest", tags=["requests"])
    def cancel_request(request_id: RequestId, actor: CurrentActor) -> RequestView:
        return request_view(service.cancel(request_id, actor))

    @router.post("/requests/{request_id}/retry", operation_id="retryRequest", tags=["requests"])
    def retry_request(request_id: RequestId, actor: CurrentActor) -> RequestView:
        """Run a failed request again from the first step that did not succeed."""
        return request_view(service.retry(request_id, actor))

    @router.post(
        "/requests/{request_id}/approve", operation_id="approveRequest", tags=["approvals"]
    )
    def approve_request(
        request_id: RequestId, decision: Decision, actor: CurrentActor
    ) -> RequestView:
        return request_view(service.approve(request_id, actor, decision.comment))

    @router.post("/requests/{request_id}/reject", operation_id="rejectRequest", tags=["approvals"])
    def reject_request(
        request_id: RequestId, decision: Decision, actor: CurrentActor
    ) -> RequestView:
        return request_view(service.reject(request_id, actor, decision.comment))

    @router.get("/requests/{request_id}/logs", operation_id="listRequestLogs", tags=["requests"])
    def request_logs(
        request_id: RequestId,
        actor: CurrentActor,
        after: Annotated[int, Query(ge=0, le=BIGINT_MAX, description="A log line id.")] = 0,
    ) -> list[LogView]:
        return [LogView.of(line) for line in service.logs(request_id, actor, after)]

    @router.get(
        "/requests/{request_id}/events",
        operation_id="streamRequestEvents",
        tags=["requests"],
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
                "description": "Events until the request is finished.",
            }
        },
    )
    async def request_events(request_id: RequestId, actor: CurrentActor) -> StreamingResponse:
        """Server-Sent Events: ``step`` (a step's status changed), ``log`` (a new log line),
        ``status`` (the request's), and ``end`` when the request is finished."""
        await run_in_threadpool(service.request, request_id, actor)
        return StreamingResponse(
            _events(platform, request_id, actor),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.post(
        "/requests/{request_id}/secrets/reveal",
        operation_id="revealRequestSecrets",
        tags=["requests"],
    )
    def reveal_secrets(request_id: RequestId, actor: CurrentActor) -> SecretsView:
        """The secret outputs in clear, for members of the owning team; every reveal is audited."""
        return SecretsView(request_id=request_id, secrets=service.reveal_secrets(request_id, actor))

    return router


async def _events(platform: Platform, request_id: str, actor: Actor) -> AsyncIterator[str]:
    service = platform.service
    seen_steps: dict[str, str] = {}
    last_status = ""
    after = 0
    while True:
        record = await run_in_threadpool(service.request, request_id, actor)
        for step in record.steps:
            if seen_steps.get(step.step_id) != step.status:
                seen_steps[step.step_id] = step.status
                yield _sse("step", StepView.of(step).model_dump(mode="json"))
        for line in await run_in_threadpool(service.logs, request_id, actor, after):
            after = line.id
            yield _sse("log", LogView.of(line).model_dump(mode="json"), event_id=line.id)
        if record.status != last_status:
            last_status = record.status
            yield _sse("status", {"status": record.status, "error": record.error})
        if record.finished:
            yield _sse("end", {"status": record.status})
            return
        await asyncio.sleep(STREAM_POLL_SECONDS)


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str)}\n\n"
