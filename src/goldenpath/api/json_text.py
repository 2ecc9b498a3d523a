"""A JSON body whose strings hold a lone surrogate is refused with 422 before any route runs.

JSON can spell one (``"\\ud800"``), Python's parser reads it, and nothing after can encode it:
not PostgreSQL, not the response that would echo it back. No UTF-8 text holds one, so no
legitimate client sends it. Only JSON bodies are read here (``application/json`` and
``+json``), whole, which `body_limit` keeps small; the check parses only a body holding an
escape of the surrogate range at all.
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goldenpath.api.errors import problem_of
from goldenpath.errors import BodyTooLarge, InvalidInput

SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
RULE = "must be valid Unicode text (a lone surrogate such as \\ud800 is not)"


class JsonTextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        try:
            messages = await _whole_body(receive)
        except BodyTooLarge as too_large:  # raised by `body_limit`'s receive, outside any route
            await problem_of(too_large, Request(scope))(scope, receive, send)
            return
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if SURROGATE_ESCAPE.search(body) and _holds_lone_surrogate(body):
            error = InvalidInput(field="body", rule=RULE)
            await problem_of(error, Request(scope))(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _whole_body(receive: Receive) -> list[Message]:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _is_json(headers: Headers) -> bool:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def _holds_lone_surrogate(body: bytes) -> bool:
    try:
        # Encoding the parsed document back to UTF-8 fails exactly on a lone surrogate.
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):
        return False  # not JSON, or nested past the parser: the route refuses it as such
    return False
