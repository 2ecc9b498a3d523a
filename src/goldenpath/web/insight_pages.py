"""The Insights page (platform admins and approvers): the bill, the baseline vs the platform,
what to build next, and the charts, drawn on the server as SVG."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from goldenpath.app import Platform
from goldenpath.insights.html import report_body
from goldenpath.web.rendering import Pages
from goldenpath.web.routing import PortalRoute, SignedIn


def insight_router(platform: Platform, pages: Pages) -> APIRouter:
    router = APIRouter(route_class=PortalRoute)

    @router.get("/insights")
    def insights(request: Request, actor: SignedIn) -> Response:
        report = platform.insights.report(actor)
        # Rendered by the insights templates, which escape every ticket text they show.
        body = Markup(report_body(report))  # noqa: S704
        return pages.render(request, "insights.html", {"body": body})

    return router
