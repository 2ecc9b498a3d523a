"""Pages for platform admins: the audit log (with its hash-chain check) and the templates."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from goldenpath.app import Platform
from goldenpath.errors import InvalidInput
from goldenpath.identity.permissions import authorize
from goldenpath.web.rendering import Pages
from goldenpath.web.routing import PortalRoute, SignedIn

PAGE_SIZE = 100


def admin_router(platform: Platform, pages: Pages) -> APIRouter:
    router = APIRouter(route_class=PortalRoute)

    @router.get("/admin/audit")
    def audit(
        request: Request,
        actor: SignedIn,
        who: str = "",
        action: str = "",
        target: str = "",
        since: str = "",
        after: int = 0,
    ) -> Response:
        events = platform.audit.events(
            actor,
            who=who or None,
            action=action or None,
            target=target or None,
            since=_date(since),
            after_id=max(after, 0),
            limit=PAGE_SIZE,
        )
        context = {
            "events": events,
            "report": platform.audit.verify(actor),
            "filters": {"who": who, "action": action, "target": target, "since": since},
            "next_after": events[-1]["id"] if len(events) == PAGE_SIZE else None,
        }
        return pages.render(request, "admin_audit.html", context)

    @router.get("/admin/templates")
    def templates(request: Request, actor: SignedIn) -> Response:
        authorize(actor, "identity.manage")
        catalog = platform.catalog
        context = {"templates": list(catalog), "problems": catalog.problems}
        return pages.render(request, "admin_templates.html", context)

    return router


def _date(text: str) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field="since", rule="must be a date (YYYY-MM-DD)") from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)
