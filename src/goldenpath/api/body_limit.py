"""Request bodies have a size limit: a larger one is refused with 413 and a problem document.

The limit is the ``max_body_bytes`` setting, or a larger one for the paths that take files
(ticket imports, git pushes). A body whose declared ``Content-Length`` is past it is refused before
any route runs, so it is never read; one sent without a length is stopped as soon as the bytes
read pass the limit (`BodyTooLarge` from ``receive``, which the error handlers answer).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goldenpath.api.errors import problem_of
from goldenpath.errors import BodyTooLarge


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int, larger: Mapping[str, int]) -> None:
        """``larger`` maps a path prefix to its own limit."""
        self.app = app
        self.limit = limit
        self.larger = larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = problem_of(BodyTooLarge(limit=limit), Request(scope))
            response.headers["Connection"] = "close"  # the body is left unread
            await response(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit=limit)
            return message

        await self.app(scope, receive_within_limit, send)

    def limit_for(self, scope: Scope) -> int:
        path: str = scope["path"]
        for prefix, limit in self.larger.items():
            if path.startswith(prefix):
                return limit
        return self.limit
