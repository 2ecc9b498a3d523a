"""The ``/git`` routes: which requests reach ``git http-backend``, and for whom.

Only the smart protocol's three endpoints are served (``info/refs?service=...``,
``git-upload-pack``, ``git-receive-pack``) and only for names a repository of ours can have, so
no path from the URL reaches the file system unchecked.

With an ``authenticate`` function, every request needs HTTP Basic credentials whose password is
a platform credential (an API token); the user it names becomes ``REMOTE_USER``. Without one,
the server is open to whoever reaches it (a single-user or test set-up).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from goldenpath.errors import AccessDenied, ConfigurationError, GoldenPathError
from goldenpath.gitserver.cgi import CgiResponse, cgi_environment
from goldenpath.settings import Settings

# The names git:repo accepts, plus the bare-repository suffix; anchored with fullmatch.
REPOSITORY = re.compile(r"[a-z][a-z0-9-]{1,62}\.git")
SERVICES = ("git-upload-pack", "git-receive-pack")
USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
ANONYMOUS = "anonymous"

# (a platform credential — the Basic password —, the repository's name, whether it is a push)
# → the user's name; raises GoldenPathError when the credential is refused or may not do that.
Authenticate = Callable[[str, str, bool], str]
# The repository's name → environment variables for the hooks a push runs (its CI secrets).
HookEnvironment = Callable[[str], dict[str, str]]
PUSH_SERVICE = "git-receive-pack"
# A push carries the whole history it adds: far past the API's body limit.
MAX_PUSH_BYTES = 2 * 1024**3


def git_router(
    root: Path,
    authenticate: Authenticate | None = None,
    hook_environment: HookEnvironment | None = None,
) -> APIRouter:
    router = APIRouter(prefix="/git", include_in_schema=False)

    @router.get("/{repository}/info/refs")
    async def advertise(repository: str, request: Request) -> Response:
        service = request.query_params.get("service")
        if service not in SERVICES:
            # The dumb protocol would serve raw files from the repository; we offer smart only.
            return _plain(403, "only git's smart HTTP protocol is served\n")
        return await _serve(
            root, repository, "info/refs", request, authenticate, push=service == PUSH_SERVICE
        )

    @router.post("/{repository}/{service}")
    async def pack(repository: str, service: str, request: Request) -> Response:
        if service not in SERVICES:
            return _plain(404, "not found\n")
        # Only the pack upload of a push runs hooks: only it is given their environment.
        hooks = hook_environment if service == PUSH_SERVICE else None
        return await _serve(
            root,
            repository,
            service,
            request,
            authenticate,
            push=service == PUSH_SERVICE,
            hook_environment=hooks,
        )

    return router


def served_root(settings: Settings) -> Path:
    """The folder the ``local`` git backends keep their repositories in (by default
    ``<data_dir>/git``); the server and the action must agree on it."""
    roots: set[Path] = set()
    for backend in settings.backends.values():
        if backend.kind == "git" and backend.option("provider", "local") == "local":
            roots.add(Path(str(backend.option("root") or settings.data_dir / "git")).resolve())
    if len(roots) > 1:
        raise ConfigurationError(
            problem="local git backends must share one 'root' (the platform serves one folder)"
        )
    return roots.pop() if roots else (settings.data_dir / "git").resolve()


async def _serve(
    root: Path,
    repository: str,
    path: str,
    request: Request,
    authenticate: Authenticate | None,
    *,
    push: bool,
    hook_environment: HookEnvironment | None = None,
) -> Response:
    if not REPOSITORY.fullmatch(repository):
        return _plain(404, "not found\n")
    try:
        user = await _caller(request, authenticate, repository.removesuffix(".git"), push)
    except AccessDenied as exc:
        # Signed in and a member, but the token's scopes do not cover this (a read token pushing).
        return _plain(403, f"{exc}\n")
    if user is None:
        return Response(
            "sign in: user name and an API token as the password\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Basic realm="Golden Path git"'},
        )
    folder = root / repository
    if folder.is_symlink() or not (folder / "HEAD").is_file():
        return _plain(404, "repository not found\n")
    env = cgi_environment(root, f"/{repository}/{path}", request, user)
    if hook_environment is not None:
        env.update(await run_in_threadpool(hook_environment, repository.removesuffix(".git")))
    return CgiResponse(env)


async def _caller(
    request: Request, authenticate: Authenticate | None, repository: str, push: bool
) -> str | None:
    """The user for REMOTE_USER; None when credentials are required and missing or refused."""
    user, password = _basic_credentials(request)
    if authenticate is None:
        # Open server: the name is only a label in http-backend's log, not an authorisation.
        return user if user and USER.fullmatch(user) else ANONYMOUS
    if not password:
        return None
    try:
        name = await run_in_threadpool(authenticate, password, repository, push)
    except AccessDenied:
        raise
    except GoldenPathError:
        return None
    return name if USER.fullmatch(name) else None


def _basic_credentials(request: Request) -> tuple[str | None, str | None]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, _, password = decoded.partition(":")
    return user, password


def _plain(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="text/plain")
