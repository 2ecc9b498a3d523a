"""Resources: what requests created, and their destruction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from goldenpath.api.auth import CurrentActor
from goldenpath.api.pages import DEFAULT, Cursor, Limit, PageView, view
from goldenpath.api.schemas import (
    CheckView,
    DriftView,
    Extend,
    Problem,
    ResourceView,
    SecretsView,
)
from goldenpath.app import Platform
from goldenpath.identity.directory import TEAM_NAME
from goldenpath.store.records import ResourceRecord

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem} for status in (401, 403, 404, 409, 413, 422, 429, 503)
}
# Checked by the use cases (a malformed id is bad input, a missing one is not found).
ResourceId = Annotated[str, Path(max_length=100, json_schema_extra={"format": "uuid"})]


def resource_router(platform: Platform) -> APIRouter:
    service = platform.service
    router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["resources"])

    sandbox = platform.settings.sandbox

    def resource_view(resource: ResourceRecord) -> ResourceView:
        template = platform.catalog.newest(resource.template_name)
        newest = template.version if template is not None else None
        return ResourceView.of(resource, newest, sandbox=sandbox)

    @router.get("/resources", operation_id="listResources")
    def list_resources(
        actor: CurrentActor,
        team: Annotated[str | None, Query(max_length=63, pattern=TEAM_NAME)] = None,
        include_destroyed: bool = False,
        cursor: Cursor = None,
        limit: Limit = DEFAULT,
    ) -> PageView[ResourceView]:
        """What your teams own (every team's for platform admins), newest first."""
        found = service.resource_page(
            actor, team=team, include_destroyed=include_destroyed, cursor=cursor, limit=limit
        )
        return view(found, resource_view)

    @router.get("/resources/{resource_id}", operation_id="getResource")
    def show_resource(resource_id: ResourceId, actor: CurrentActor) -> ResourceView:
        return resource_view(service.resource(resource_id, actor))

    @router.post("/resources/{resource_id}/secrets/reveal", operation_id="revealResourceSecrets")
    def reveal_secrets(resource_id: str, actor: CurrentActor) -> SecretsView:
        """The resource's secret outputs in clear, for its team's members; audited."""
        found = service.reveal_resource_secrets(resource_id, actor)
        return SecretsView(
            request_id=service.resource(resource_id, actor).request_id, secrets=found
        )

    @router.post("/resources/{resource_id}/check", operation_id="checkResource")
    def check_resource(resource_id: str, actor: CurrentActor) -> CheckView:
        """Read the live state now: does it exist, and what drifted from what was made?"""
        observation = service.check(resource_id, actor)
        return CheckView(
            resource_id=resource_id,
            exists=observation.exists,
            in_sync=observation.in_sync,
            drift=[
                DriftView(field=d.field, expected=d.expected, actual=d.actual)
                for d in observation.drift
            ],
        )

    @router.post("/resources/{resource_id}/extend", operation_id="extendResource")
    def extend_resource(resource_id: ResourceId, body: Extend, actor: CurrentActor) -> ResourceView:
        """Push the expiry to ``ttl`` from now, within the template's ``lifecycle.ttl.max``."""
        return resource_view(service.extend(resource_id, actor, body.ttl))

    @router.delete("/resources/{resource_id}", operation_id="destroyResource", status_code=202)
    def destroy_resource(resource_id: ResourceId, actor: CurrentActor) -> ResourceView:
        """Queue the destruction; the resource is ``destroying`` until the worker is done."""
        return resource_view(service.destroy(resource_id, actor))

    return router
