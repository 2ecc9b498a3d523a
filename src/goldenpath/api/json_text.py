"""JSON bodies that Python's parser reads but nothing after it can handle are refused with 422
before any route runs:

- nested deeper than `MAX_DEPTH` arrays and objects: validating a few hundred levels exhausts
  the interpreter's recursion limit (a 500, or a dropped connection), and no body of ours
  nests more than a handful;
- holding a lone surrogate: JSON can spell one (``"\\ud800"``) and nothing downstream can
  encode it (not PostgreSQL, not the response that would echo it). No UTF-8 text holds one.

Only JSON bodies are read here (``application/json`` and ``+json``), whole, which `body_limit`
keeps small. Both checks are cheap for an ordinary body: the depth is measured only when the
body has more brackets than the limit (and is at most `DEPTH_SCANNED`), and the body parsed
only when it holds an escape of the surrogate range at all.
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goldenpath.api.errors import problem_of
from goldenpath.errors import BodyTooLarge, InvalidInput

MAX_DEPTH = 64
# Larger bodies (ticket imports, up to 256 MiB) are not scanned for depth: their reader parses
# them itself and refuses what nests too deep to read.
DEPTH_SCANNED = 4 * 1024 * 1024
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
BRACKET = re.compile(rb"[\[\]{}]")
RULE = "must be valid Unicode text (a lone surrogate such as \\ud800 is not)"
DEPTH_RULE = f"must not nest arrays and objects more than {MAX_DEPTH} levels deep"


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
        rule = None
        if len(body) <= DEPTH_SCANNED and too_deep(body):
            rule = DEPTH_RULE
        elif SURROGATE_ESCAPE.search(body) and _holds_lone_surrogate(body):
            rule = RULE
        if rule is not None:
            error = InvalidInput(field="body", rule=rule)
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


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects past ``limit`` (brackets inside strings
    do not count)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in BRACKET.finditer(JSON_STRING.sub(b"", body)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def _holds_lone_surrogate(body: bytes) -> bool:
    try:
        # Encoding the parsed document back to UTF-8 fails exactly on a lone surrogate.
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):
        return False  # not JSON, or nested past the parser: the route refuses it as such
    return False
