"""What my teams own: the list, one resource with its outputs and day-2 actions, and its
destruction behind a confirmation page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response

from goldenpath.app import Platform
from goldenpath.errors import Conflict, GoldenPathError, InvalidInput, InvalidInputs, PolicyDenied
from goldenpath.execution.day2 import LIVE
from goldenpath.identity.actor import Actor
from goldenpath.store.records import RequestRecord
from goldenpath.templates.model import Day2Action
from goldenpath.web.forms import Page, fields_of, form_pages, parse
from goldenpath.web.rendering import Pages
from goldenpath.web.routing import PortalRoute, Posted, SignedIn, field_errors, redirect

FORM_ERRORS = (InvalidInput, InvalidInputs, Conflict, PolicyDenied)


@dataclass(frozen=True)
class OfferedAction:
    """A day-2 action as the resource page shows it: a button, with its form when it has one."""

    action: Day2Action
    form: list[Page]
    values: dict[str, Any]
    errors: dict[str, list[str]]
    general: list[str]


def resource_router(platform: Platform, pages: Pages) -> APIRouter:
    service = platform.service
    router = APIRouter(route_class=PortalRoute)

    @router.get("/resources")
    def resources(request: Request, actor: SignedIn, all: str = "") -> Response:
        found = service.resources(actor, include_destroyed=bool(all))
        total = sum(r.monthly_cost_usd or 0.0 for r in found if r.state != "destroyed")
        expiring = {r.id: service.extension_offer(r) for r in found if service.expiring_soon(r)}
        context = {"resources": found, "all": bool(all), "total": total, "expiring": expiring}
        return pages.render(request, "resources.html", context)

    @router.get("/resources/{resource_id}")
    def show(request: Request, resource_id: str, actor: SignedIn) -> Response:
        return _resource_page(request, resource_id, actor)

    @router.post("/resources/{resource_id}/actions/{name}")
    def run_action(
        request: Request, resource_id: str, name: str, actor: SignedIn, posted: Posted
    ) -> Response:
        _, offered = platform.day2.offered(resource_id, actor)
        declared = next((a for a in offered if a.name == name), None)
        values = parse(form_pages(declared.parameters), posted) if declared else {}
        try:
            found = platform.day2.run(resource_id, name, values, actor)
        except FORM_ERRORS as error:
            return _resource_page(request, resource_id, actor, failed=(name, values, error))
        assert isinstance(found, RequestRecord)
        return redirect(f"/requests/{found.id}")

    def _resource_page(
        request: Request,
        resource_id: str,
        actor: Actor,
        *,
        failed: tuple[str, dict[str, Any], GoldenPathError] | None = None,
    ) -> Response:
        resource = service.resource(resource_id, actor)
        offered: list[OfferedAction] = []
        if resource.state in LIVE:
            _, declared = platform.day2.offered(resource_id, actor)
            for action in declared:
                form = form_pages(action.parameters)
                values: dict[str, Any] = {}
                errors: dict[str, list[str]] = {}
                general: list[str] = []
                if failed is not None and failed[0] == action.name:
                    values = failed[1]
                    names = {f.name for f in fields_of(form)}
                    errors, general = field_errors(failed[2], names)
                offered.append(OfferedAction(action, form, values, errors, general))
        context = {
            "res": resource,
            "actions": offered,
            "expiring": service.expiring_soon(resource),
            "extend_offer": service.extension_offer(resource),
        }
        return pages.render(request, "resource.html", context, status=422 if failed else 200)

    @router.post("/resources/{resource_id}/extend")
    def extend(resource_id: str, actor: SignedIn, form: Posted) -> Response:
        """The one-click extend of the expiry banner (the lifetime its button offers)."""
        service.extend(resource_id, actor, str(form.get("ttl", [""])[-1]))
        return redirect(f"/resources/{resource_id}")

    @router.get("/resources/{resource_id}/destroy")
    def confirm(request: Request, resource_id: str, actor: SignedIn) -> Response:
        resource = service.resource(resource_id, actor)
        return pages.render(request, "destroy.html", {"res": resource})

    @router.post("/resources/{resource_id}/destroy")
    def destroy(resource_id: str, actor: SignedIn, form: Posted) -> Response:
        service.destroy(resource_id, actor)
        return redirect(f"/resources/{resource_id}")

    return router
