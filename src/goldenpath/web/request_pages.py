"""Requests: the list, one request's page (live through Server-Sent Events), its secrets on an
explicit click, and the approvals inbox."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from goldenpath.app import Platform
from goldenpath.errors import AccessDenied, Hidden
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import Target, authorize
from goldenpath.store.records import RequestRecord
from goldenpath.web.rendering import Pages
from goldenpath.web.routing import PortalRoute, Posted, SignedIn, one, redirect

STATUSES = (
    "pending_approval",
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "rejected",
)


def request_router(platform: Platform, pages: Pages) -> APIRouter:
    service = platform.service
    router = APIRouter(route_class=PortalRoute)

    @router.get("/requests")
    def requests(request: Request, actor: SignedIn, status: str = "") -> Response:
        found = service.requests(actor, status=status or None, limit=100)
        context = {"requests": found, "status": status, "statuses": STATUSES}
        return pages.render(request, "requests.html", context)

    @router.get("/requests/{request_id}")
    def show(request: Request, request_id: str, actor: SignedIn) -> Response:
        record = service.request(request_id, actor)
        context = {
            "r": record,
            "title": pinned_title(record),
            "logs": service.logs(request_id, actor),
            "may_decide": may_decide(actor, record),
            "resources": [
                r
                for r in service.resources(actor, include_destroyed=True)
                if r.request_id == record.id
            ],
        }
        return pages.render(request, "request.html", context)

    @router.post("/requests/{request_id}/secrets")
    def reveal(request: Request, request_id: str, actor: SignedIn, form: Posted) -> Response:
        record = service.request(request_id, actor)
        secrets = service.reveal_secrets(request_id, actor)
        return pages.render(
            request,
            "secrets.html",
            {"r": record, "secrets": secrets},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    @router.post("/requests/{request_id}/cancel")
    def cancel(request_id: str, actor: SignedIn, form: Posted) -> Response:
        service.cancel(request_id, actor)
        return redirect(f"/requests/{request_id}")

    @router.post("/requests/{request_id}/retry")
    def retry(request_id: str, actor: SignedIn, form: Posted) -> Response:
        service.retry(request_id, actor)
        return redirect(f"/requests/{request_id}")

    @router.get("/approvals")
    def approvals(request: Request, actor: SignedIn) -> Response:
        waiting = service.requests(actor, status="pending_approval", limit=200)
        mine = [r for r in waiting if may_decide(actor, r)]
        # What each team spends now and may spend, beside what the request would add.
        budgets = {
            team: platform.guardrails.team_facts(platform.database, team)
            for team in sorted({r.owner_team for r in mine})
        }
        return pages.render(request, "approvals.html", {"requests": mine, "budgets": budgets})

    @router.post("/requests/{request_id}/approve")
    def approve(request_id: str, actor: SignedIn, form: Posted) -> Response:
        service.approve(request_id, actor, one(form, "comment").strip() or None)
        return redirect(f"/requests/{request_id}")

    @router.post("/requests/{request_id}/reject")
    def reject(request_id: str, actor: SignedIn, form: Posted) -> Response:
        service.reject(request_id, actor, one(form, "comment").strip() or None)
        return redirect("/approvals")

    return router


def pinned_title(record: RequestRecord) -> str:
    """The title of the golden path as the request pinned it (its slug if it has none)."""
    raw = record.template_snapshot.get("raw") or {}
    metadata = raw.get("metadata") if isinstance(raw, dict) else None
    title = metadata.get("title") if isinstance(metadata, dict) else None
    return str(title) if title else record.template_name


def may_decide(actor: Actor, record: RequestRecord) -> bool:
    """Whether ``actor`` may approve or reject this request (never their own)."""
    if record.status != "pending_approval":
        return False
    try:
        authorize(
            actor,
            "request.decide",
            Target(team=record.owner_team, requested_by=record.requested_by),
        )
    except (AccessDenied, Hidden):
        return False
    return True
