"""Running ``git http-backend`` as a CGI program from an ASGI request.

The request body is streamed into the process while its output is read, so neither side waits
on a full pipe; the CGI header block is parsed into the status and headers, and the rest of
the output is streamed back as it comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_HEADER_LINES = 100
# Values copied from request headers into the CGI environment, with the shapes git sends.
GIT_PROTOCOL = re.compile(r"[A-Za-z0-9=:._-]{1,200}")
CONTENT_ENCODINGS = ("gzip", "x-gzip")


async def run_http_backend(
    *, root: Path, path_info: str, request: Request, remote_user: str
) -> Response:
    env = _environment(root, path_info, request, remote_user)
    process = await asyncio.create_subprocess_exec(
        "git",
        "http-backend",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdin and process.stdout and process.stderr
    stdout = process.stdout
    feeder = asyncio.create_task(_feed(request, process.stdin))
    errors = asyncio.create_task(process.stderr.read())
    try:
        status, headers = await _read_headers(stdout)
    except Exception:
        await _stop(process, feeder, errors, path_info)
        raise
    if status is None:
        await _stop(process, feeder, errors, path_info)
        return Response("git http-backend failed\n", status_code=502, media_type="text/plain")

    async def body() -> AsyncIterator[bytes]:
        try:
            while chunk := await stdout.read(CHUNK):
                yield chunk
        finally:
            await _stop(process, feeder, errors, path_info)

    return StreamingResponse(body(), status_code=status, headers=headers)


def _environment(root: Path, path_info: str, request: Request, remote_user: str) -> dict[str, str]:
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


async def _feed(request: Request, stdin: asyncio.StreamWriter) -> None:
    try:
        async for chunk in request.stream():
            stdin.write(chunk)
            await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the backend stopped reading (it refused the request); its answer says why
    finally:
        stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await stdin.wait_closed()


async def _read_headers(stdout: asyncio.StreamReader) -> tuple[int | None, dict[str, str]]:
    """The CGI header block: ``Status:`` becomes the status; None when there is no block."""
    status = 200
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        line = await stdout.readline()
        if not line:
            return None, headers
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            return status, headers
        name, _, value = text.partition(":")
        name, value = name.strip(), value.strip()
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers[name] = value
    return None, headers


async def _stop(
    process: asyncio.subprocess.Process,
    feeder: asyncio.Task[None],
    errors: asyncio.Task[bytes],
    path_info: str,
) -> None:
    """Wait for a finished backend, or kill one the client stopped listening to."""
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
