"""The web portal: server-rendered pages over the use cases, beside the REST API."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from goldenpath.app import Platform
from goldenpath.web.app import portal_router
from goldenpath.web.rendering import STATIC, Pages
from goldenpath.web.routing import PageNotFound
from goldenpath.web.session import SessionMiddleware, SessionSigner, session_key

__all__ = ["mount_portal"]

# Paths that machines call: an unknown one there is answered in the API's problem+json.
MACHINE_PATHS = ("/api/", "/git/", "/slack/")
MACHINE_EXACT = frozenset({"/api", "/metrics", "/healthz", "/readyz"})


def mount_portal(api: FastAPI, platform: Platform) -> None:
    """Add the portal's pages, its static files and the session cookie to ``api``."""
    settings = platform.settings
    signer = SessionSigner(session_key(settings.secret_key, settings.data_dir.resolve()))
    api.state.portal_signer = signer
    api.state.portal_pages = Pages(sandbox=settings.sandbox)
    api.add_middleware(SessionMiddleware, signer=signer)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    api.include_router(portal_router(platform, api.state.portal_pages))
    _not_found_as_page(api, api.state.portal_pages)


def _not_found_as_page(api: FastAPI, pages: Pages) -> None:
    """A browser that asks for an unknown address outside the API gets the portal's 404 page;
    every other client, and every API path, keeps the API's problem document."""
    answer = api.exception_handlers[HTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        path = request.url.path
        if (
            isinstance(exc, HTTPException)
            and exc.status_code == 404
            and "text/html" in request.headers.get("accept", "")
            and not path.startswith(MACHINE_PATHS)
            and path not in MACHINE_EXACT
        ):
            context = {"error": PageNotFound(), "status": 404}
            return pages.render(request, "error.html", context, status=404)
        answered = answer(request, exc)
        return await answered if inspect.isawaitable(answered) else answered

    api.add_exception_handler(HTTPException, http_error)
