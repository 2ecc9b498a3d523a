"""The web portal: server-rendered pages over the use cases, beside the REST API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from goldenpath.app import Platform
from goldenpath.web.app import portal_router
from goldenpath.web.rendering import STATIC, Pages
from goldenpath.web.session import SessionMiddleware, SessionSigner, session_key

__all__ = ["mount_portal"]


def mount_portal(api: FastAPI, platform: Platform) -> None:
    """Add the portal's pages, its static files and the session cookie to ``api``."""
    settings = platform.settings
    signer = SessionSigner(session_key(settings.secret_key, settings.data_dir.resolve()))
    api.state.portal_signer = signer
    api.state.portal_pages = Pages(sandbox=settings.sandbox)
    api.add_middleware(SessionMiddleware, signer=signer)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    api.include_router(portal_router(platform, api.state.portal_pages))
