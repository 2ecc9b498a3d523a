"""Every HTTP request gets an id: the caller's ``X-Request-ID`` when it is a sane token, else a
new one. It is on every log line written while the request is served, and in the response's
``X-Request-ID``, so a user's report and the server log meet."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goldenpath.logs import request_id

HEADER = "X-Request-ID"
ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(HEADER, "")
        current = given if ACCEPTED.match(given) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = current
            await send(message)

        # Not reset afterwards: the server logs an escaped exception after the app returns, and
        # each connection is a task of its own, so the id cannot reach another connection.
        request_id.set(current)
        await self.app(scope, receive, send_with_id)
