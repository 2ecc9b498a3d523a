"""Authentication for the API: a bearer credential (API token or OIDC JWT) becomes an `Actor`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from goldenpath.errors import NotAuthenticated
from goldenpath.identity.actor import Actor
from goldenpath.identity.directory import Directory

bearer = HTTPBearer(
    auto_error=False,
    description="An API token (`gp_...`, see `goldenpath tokens create`) or an OIDC JWT.",
)


def actor_dependency(directory: Directory) -> Callable[..., object]:
    async def current_actor(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Actor:
        if credentials is None:
            session_user = getattr(request.state, "session_user", None)
            if isinstance(session_user, str):
                return await run_in_threadpool(directory.actor_for, session_user)
            raise NotAuthenticated(problem="sign in: send 'Authorization: Bearer <token>'")
        return await run_in_threadpool(directory.authenticate, credentials.credentials)

    return current_actor
