"""Day-2 actions over HTTP: what a resource's golden path offers on it, and running one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from starlette.concurrency import run_in_threadpool

from goldenpath.api.auth import CurrentActor
from goldenpath.api.schemas import Day2ActionView, Day2Run, PlanResponse, Problem, RequestView
from goldenpath.app import Platform
from goldenpath.service import DryRun
from goldenpath.templates.model import NAME_PATTERN

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem} for status in (401, 403, 404, 409, 422, 503)
}
ResourceId = Annotated[str, Path(max_length=100, json_schema_extra={"format": "uuid"})]
ActionName = Annotated[str, Path(max_length=63, pattern=NAME_PATTERN)]


def day2_router(platform: Platform) -> APIRouter:
    day2, sandbox = platform.day2, platform.settings.sandbox
    router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["resources"])

    @router.get("/resources/{resource_id}/actions", operation_id="listResourceActions")
    def list_actions(resource_id: ResourceId, actor: CurrentActor) -> list[Day2ActionView]:
        """The day-2 actions the resource's golden path offers (``spec.day2``), with forms."""
        template, offered = day2.offered(resource_id, actor)
        return [
            Day2ActionView(
                name=a.name,
                title=a.title or a.name,
                description=a.description,
                parameters_schema=template.day2_schema(a.name),
            )
            for a in offered
        ]

    @router.post(
        "/resources/{resource_id}/actions/{name}",
        operation_id="runResourceAction",
        status_code=202,
        responses={200: {"model": PlanResponse, "description": "The plan of a dry run."}},
    )
    async def run_action(
        resource_id: ResourceId,
        name: ActionName,
        body: Day2Run,
        actor: CurrentActor,
        response: Response,
    ) -> RequestView | PlanResponse:
        """Run a day-2 action on the resource as a request (202, kind ``day2:<name>``), or with
        ``dry_run`` see its plan and the guardrails' verdict (200)."""
        found = await run_in_threadpool(
            lambda: day2.run(resource_id, name, body.parameters, actor, dry_run=body.dry_run)
        )
        if isinstance(found, DryRun):
            response.status_code = 200
            return PlanResponse.of(found, sandbox=sandbox)
        response.headers["Location"] = f"/api/v1/requests/{found.id}"
        return RequestView.of(found, with_plan=True, sandbox=sandbox)

    return router
