"""The portal's router: one page area per module, all with `PortalRoute` error handling."""

from __future__ import annotations

from fastapi import APIRouter

from goldenpath.app import Platform
from goldenpath.web.admin_pages import admin_router
from goldenpath.web.catalog_pages import catalog_router
from goldenpath.web.insight_pages import insight_router
from goldenpath.web.login_pages import login_router
from goldenpath.web.rendering import Pages
from goldenpath.web.request_pages import request_router
from goldenpath.web.resource_pages import resource_router
from goldenpath.web.routing import PortalRoute
from goldenpath.web.upgrade_pages import upgrade_router


def portal_router(platform: Platform, pages: Pages) -> APIRouter:
    router = APIRouter(route_class=PortalRoute, include_in_schema=False)
    for area in (
        login_router(pages),
        catalog_router(platform, pages),
        request_router(platform, pages),
        resource_router(platform, pages),
        admin_router(platform, pages),
        upgrade_router(platform, pages),
        insight_router(platform, pages),
    ):
        router.include_router(area)
    return router
