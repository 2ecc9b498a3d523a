"""Signing in with a local password, and out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from goldenpath.errors import GoldenPathError, RateLimited
from goldenpath.web.rendering import Pages
from goldenpath.web.routing import PortalRoute, Posted, one, redirect
from goldenpath.web.session import COOKIE_NAME, LIFETIME_SECONDS, Session, SessionSigner


def login_router(pages: Pages) -> APIRouter:
    router = APIRouter(route_class=PortalRoute)

    @router.get("/login")
    def login_page(request: Request, next: str = "/") -> Response:
        # A visitor gets an anonymous session first: the login form needs a CSRF token too.
        session = request.state.session
        fresh = session is None
        if fresh:
            session = Session.start()
            request.state.session = session
        response = pages.render(request, "login.html", {"next": _local(next), "user": ""})
        if fresh:
            set_session(request, response, session)
        return response

    @router.post("/login")
    async def login(request: Request, form: Posted) -> Response:
        user, password = one(form, "user").strip(), one(form, "password")
        directory = request.app.state.platform.directory
        address = request.client.host if request.client else None
        try:
            await run_in_threadpool(directory.login, user, password, address)
        except RateLimited as limited:
            context = {"next": _local(one(form, "next")), "user": user, "limited": limited}
            refused = pages.render(request, "login.html", context, status=429)
            refused.headers["Retry-After"] = str(limited.retry_after)
            return refused
        except GoldenPathError:
            context = {"next": _local(one(form, "next")), "user": user, "failed": True}
            return pages.render(request, "login.html", context, status=401)
        # A new session (and CSRF token) at sign-in: a token planted before is worthless.
        response = redirect(_local(one(form, "next")))
        set_session(request, response, Session.start(user))
        return response

    @router.post("/logout")
    def logout(request: Request, form: Posted) -> Response:
        response = redirect("/login")
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
        return response

    return router


def set_session(request: Request, response: Response, session: Session) -> None:
    signer: SessionSigner = request.app.state.portal_signer
    response.set_cookie(
        COOKIE_NAME,
        signer.dump(session),
        max_age=LIFETIME_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _local(target: str) -> str:
    """Only a path on this site (no open redirect to ``//evil.example``)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
