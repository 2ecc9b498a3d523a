"""Running ``git http-backend`` as a CGI program for one ASGI request.

`CgiResponse` is a response that owns the request's ``receive`` channel: it streams the request
body into the process while it streams the process's output back, so neither side waits on a
full pipe. (http-backend writes its headers before it reads the body, so a response that
starts sending while another task reads the body must be the only reader of ``receive``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_HEADER_LINES = 100
# Values copied from request headers into the CGI environment, with the shapes git sends.
GIT_PROTOCOL = re.compile(r"[A-Za-z0-9=:._-]{1,200}")
CONTENT_ENCODINGS = ("gzip", "x-gzip")


def cgi_environment(
    root: Path, path_info: str, request: Request, remote_user: str
) -> dict[str, str]:
    # Only what git needs from our own environment: a stray GIT_DIR or GIT_CONFIG would point
    # the backend (and the hooks it runs) somewhere else.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_PROJECT_ROOT=str(root),
        GIT_HTTP_EXPORT_ALL="1",
        PATH_INFO=path_info,
        REQUEST_METHOD=request.method,
        QUERY_STRING=request.url.query,
        CONTENT_TYPE=request.headers.get("content-type", ""),
        REMOTE_USER=remote_user,
        REMOTE_ADDR=request.client.host if request.client else "",
        GATEWAY_INTERFACE="CGI/1.1",
        SERVER_PROTOCOL="HTTP/1.1",
    )
    length = request.headers.get("content-length", "")
    if length.isdigit():
        env["CONTENT_LENGTH"] = length
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in CONTENT_ENCODINGS:
        # git gzips large upload-pack requests; http-backend inflates them when told.
        env["HTTP_CONTENT_ENCODING"] = encoding
    protocol = request.headers.get("git-protocol", "")
    if GIT_PROTOCOL.fullmatch(protocol):
        env["GIT_PROTOCOL"] = protocol  # protocol v2 negotiation
    return env


class CgiResponse(Response):
    """The output of ``git http-backend`` run with ``env``, streamed both ways."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__()
        self._env = env

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        process = await asyncio.create_subprocess_exec(
            "git",
            "http-backend",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
        )
        assert process.stdin and process.stdout and process.stderr
        feeder = asyncio.create_task(_feed(receive, process.stdin))
        errors = asyncio.create_task(process.stderr.read())
        try:
            status, headers = await _read_headers(process.stdout)
            if status is None:
                status, headers = 502, [(b"content-type", b"text/plain")]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": b"git http-backend failed\n"})
                return
            await send({"type": "http.response.start", "status": status, "headers": headers})
            while chunk := await process.stdout.read(CHUNK):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await _finish(process, feeder, errors, self._env["PATH_INFO"])


async def _feed(receive: Receive, stdin: asyncio.StreamWriter) -> None:
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            if body:
                stdin.write(body)
                await stdin.drain()
            if not message.get("more_body", False):
                return
    except (BrokenPipeError, ConnectionResetError):
        pass  # the backend stopped reading (it refused the request); its answer says why
    finally:
        stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await stdin.wait_closed()


async def _read_headers(
    stdout: asyncio.StreamReader,
) -> tuple[int | None, list[tuple[bytes, bytes]]]:
    """The CGI header block: ``Status:`` becomes the status; None when there is no block."""
    status = 200
    headers: list[tuple[bytes, bytes]] = []
    for _ in range(MAX_HEADER_LINES):
        line = await stdout.readline()
        if not line:
            return None, headers
        text = line.rstrip(b"\r\n")
        if not text:
            return status, headers
        name, _, value = text.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"status":
            status = int(value.split()[0])
        elif name:
            headers.append((name, value))
    return None, headers


async def _finish(
    process: asyncio.subprocess.Process,
    feeder: asyncio.Task[None],
    errors: asyncio.Task[bytes],
    path_info: str,
) -> None:
    """Wait for a finished backend, or kill one whose client went away."""
    if process.returncode is None:
        try:
            await asyncio.wait_for(process.wait(), timeout=5)
        except TimeoutError:
            process.kill()
            await process.wait()
    feeder.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await feeder
    stderr = (await errors).decode(errors="replace").strip()
    if process.returncode or stderr:
        logger.warning("git http-backend %s exited %s: %s", path_info, process.returncode, stderr)
