"""Day 2 over HTTP: versions, diffs, the impact of a version, and upgrades."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from goldenpath.api.auth import CurrentActor
from goldenpath.api.schemas import (
    VERSION_PATTERN,
    Problem,
    RequestView,
    RolloutBody,
    UpgradeBody,
)
from goldenpath.app import Platform
from goldenpath.templates.model import NAME_PATTERN

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem} for status in (401, 403, 404, 409, 410, 413, 422)
}
TemplateName = Annotated[str, Path(max_length=63, pattern=NAME_PATTERN)]
Version = Annotated[str, Query(max_length=64, pattern=VERSION_PATTERN)]
ResourceId = Annotated[str, Path(max_length=100, json_schema_extra={"format": "uuid"})]


def upgrade_router(platform: Platform) -> APIRouter:
    upgrades, service = platform.upgrades, platform.service
    router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["templates"])

    @router.get("/templates/{name}/versions", operation_id="listTemplateVersions")
    def list_versions(name: TemplateName, actor: CurrentActor) -> list[dict[str, Any]]:
        """Every loaded version, oldest first, with its status; ``newest`` serves new requests."""
        service.template(name, actor)
        newest = platform.catalog.newest(name)
        return [
            {
                "version": version,
                "status": template.document.metadata.status,
                "note": template.document.metadata.status_note,
                "newest": newest is not None and newest.version == version,
            }
            for version, template in platform.catalog.versions_of(name).items()
        ]

    @router.get("/templates/{name}/diff", operation_id="diffTemplateVersions")
    def diff(
        name: TemplateName,
        actor: CurrentActor,
        from_: Annotated[Version, Query(alias="from")],
        to: Version,
    ) -> list[dict[str, Any]]:
        """What changed from one version to another: parameters, steps, outputs, guardrails."""
        return [c.as_dict() for c in upgrades.diff(name, from_, to, actor)]

    @router.get("/templates/{name}/impact", operation_id="getUpgradeImpact")
    async def impact(
        name: TemplateName, actor: CurrentActor, version: Version | None = None
    ) -> dict[str, Any]:
        """Admins: every live resource of an older version re-planned under ``version``
        (default the newest): none / update / replace / denied / invalid, with the reasons."""
        found = await run_in_threadpool(lambda: upgrades.impact(name, version, actor))
        return found.as_dict()

    @router.post("/templates/{name}/rollout", operation_id="startRollout", status_code=202)
    async def rollout(name: TemplateName, body: RolloutBody, actor: CurrentActor) -> dict[str, Any]:
        """Admins: queue an upgrade request for every resource the impact shows changing in
        place (and replaced, with ``allow_replace``) or unchanged; list the others, with why.
        Returns at once: follow each request."""
        started = await run_in_threadpool(
            lambda: upgrades.start_rollout(
                name, body.version, actor, allow_replace=body.allow_replace
            )
        )
        return {
            "version": started.version,
            "started": [
                {**item.as_dict(), "request": RequestView.of(request).model_dump(mode="json")}
                for item, request in started.started
            ],
            "refused": [{**item.as_dict(), "why": why} for item, why in started.refused],
        }

    @router.post(
        "/resources/{resource_id}/upgrade", operation_id="upgradeResource", status_code=202
    )
    async def upgrade(
        resource_id: ResourceId, body: UpgradeBody, actor: CurrentActor, response: Response
    ) -> dict[str, Any]:
        """Upgrade what made this resource to a newer version, in place (202 and the request),
        or with ``dry_run`` only its impact and the verdict (200). Replacing is refused
        unless ``allow_replace``."""
        plan = await run_in_threadpool(
            lambda: upgrades.upgrade(
                resource_id,
                actor,
                to=body.to,
                dry_run=body.dry_run,
                allow_replace=body.allow_replace,
            )
        )
        answer: dict[str, Any] = {"impact": [i.as_dict() for i in plan.impact]}
        if plan.preview is not None:
            response.status_code = 200
            answer["verdict"] = plan.preview.verdict.as_dict()
        if plan.request is not None:
            response.headers["Location"] = f"/api/v1/requests/{plan.request.id}"
            answer["request"] = RequestView.of(
                plan.request, sandbox=platform.settings.sandbox
            ).model_dump(mode="json")
        return answer

    return router
