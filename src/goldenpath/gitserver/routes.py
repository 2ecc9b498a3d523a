"""The ``/git`` routes: which requests reach ``git http-backend``, and for whom.

Only the smart protocol's three endpoints are served (``info/refs?service=...``,
``git-upload-pack``, ``git-receive-pack``) and only for names a repository of ours can have, so
no path from the URL reaches the file system unchecked.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from goldenpath.errors import ConfigurationError
from goldenpath.gitserver.cgi import CgiResponse, cgi_environment
from goldenpath.settings import Settings

# The names git:repo accepts, plus the bare-repository suffix; anchored with fullmatch.
REPOSITORY = re.compile(r"[a-z][a-z0-9-]{1,62}\.git")
SERVICES = ("git-upload-pack", "git-receive-pack")
USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")


def git_router(root: Path) -> APIRouter:
    router = APIRouter(prefix="/git", include_in_schema=False)

    @router.get("/{repository}/info/refs")
    async def advertise(repository: str, request: Request) -> Response:
        service = request.query_params.get("service")
        if service not in SERVICES:
            # The dumb protocol would serve raw files from the repository; we offer smart only.
            return _plain(403, "only git's smart HTTP protocol is served\n")
        return _serve(root, repository, "info/refs", request)

    @router.post("/{repository}/{service}")
    async def pack(repository: str, service: str, request: Request) -> Response:
        if service not in SERVICES:
            return _plain(404, "not found\n")
        return _serve(root, repository, service, request)

    return router


def served_root(settings: Settings) -> Path:
    """The folder the ``local`` git backends keep their repositories in (by default
    ``<data_dir>/git``); the server and the action must agree on it."""
    roots: set[Path] = set()
    for backend in settings.backends.values():
        if backend.kind == "git" and backend.option("provider", "local") == "local":
            roots.add(Path(str(backend.option("root") or settings.data_dir / "git")))
    if len(roots) > 1:
        raise ConfigurationError(
            problem="local git backends must share one 'root' (the platform serves one folder)"
        )
    return roots.pop() if roots else settings.data_dir / "git"


def _serve(root: Path, repository: str, path: str, request: Request) -> Response:
    if not REPOSITORY.fullmatch(repository):
        return _plain(404, "not found\n")
    folder = root / repository
    if folder.is_symlink() or not (folder / "HEAD").is_file():
        return _plain(404, "repository not found\n")
    return CgiResponse(
        cgi_environment(root, f"/{repository}/{path}", request, _remote_user(request))
    )


def _remote_user(request: Request) -> str:
    """Who pushes, as far as we know until git tokens arrive: the Basic user name or the
    platform's user header. Recorded in the server's log by http-backend, not an authorisation."""
    candidates: list[Any] = []
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:], validate=True).decode()
            candidates.append(decoded.split(":", 1)[0])
        except ValueError:
            pass
    candidates.append(request.headers.get("x-goldenpath-user"))
    for candidate in candidates:
        if isinstance(candidate, str) and USER.fullmatch(candidate):
            return candidate
    return "anonymous"


def _plain(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="text/plain")
