"""Authentication for the API: a bearer credential (API token or OIDC JWT) becomes an `Actor`.

The directory is found on the app (``app.state.platform``), so routes declare their caller
with the module-level `CurrentActor` type.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from goldenpath.errors import NotAuthenticated
from goldenpath.identity.actor import Actor

bearer = HTTPBearer(
    auto_error=False,
    description="An API token (`gp_...`, see `goldenpath tokens create`) or an OIDC JWT.",
)


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    directory = request.app.state.platform.directory
    if credentials is None:
        session_user = getattr(request.state, "session_user", None)
        if isinstance(session_user, str):
            actor: Actor = await run_in_threadpool(directory.actor_for, session_user)
            return actor
        raise NotAuthenticated(problem="sign in: send 'Authorization: Bearer <token>'")
    address = request.client.host if request.client else None
    recent: Actor | None = directory.recently_authenticated(credentials.credentials, address)
    if recent is not None:
        return recent
    found: Actor = await run_in_threadpool(directory.authenticate, credentials.credentials, address)
    return found


CurrentActor = Annotated[Actor, Depends(current_actor)]
