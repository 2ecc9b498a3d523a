"""What my teams own: the list, one resource with its outputs and day-2 actions, and its
destruction behind a confirmation page."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from goldenpath.app import Platform
from goldenpath.web.rendering import Pages
from goldenpath.web.routing import PortalRoute, Posted, SignedIn, redirect


def resource_router(platform: Platform, pages: Pages) -> APIRouter:
    service = platform.service
    router = APIRouter(route_class=PortalRoute)

    @router.get("/resources")
    def resources(request: Request, actor: SignedIn, all: str = "") -> Response:
        found = service.resources(actor, include_destroyed=bool(all))
        total = sum(r.monthly_cost_usd or 0.0 for r in found if r.state != "destroyed")
        context = {"resources": found, "all": bool(all), "total": total}
        return pages.render(request, "resources.html", context)

    @router.get("/resources/{resource_id}")
    def show(request: Request, resource_id: str, actor: SignedIn) -> Response:
        resource = service.resource(resource_id, actor)
        return pages.render(request, "resource.html", {"res": resource})

    @router.get("/resources/{resource_id}/destroy")
    def confirm(request: Request, resource_id: str, actor: SignedIn) -> Response:
        resource = service.resource(resource_id, actor)
        return pages.render(request, "destroy.html", {"res": resource})

    @router.post("/resources/{resource_id}/destroy")
    def destroy(resource_id: str, actor: SignedIn, form: Posted) -> Response:
        service.destroy(resource_id, actor)
        return redirect(f"/resources/{resource_id}")

    return router
