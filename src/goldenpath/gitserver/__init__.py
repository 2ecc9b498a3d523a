"""Serving the platform's local repositories over git's smart HTTP protocol.

`mount` adds ``/git/<name>.git/...`` to the API; each request runs ``git http-backend`` (CGI)
on the repositories under one root folder — the ``root`` of the ``local`` git backend.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from goldenpath.gitserver.routes import Authenticate, HookEnvironment, git_router, served_root

__all__ = ["Authenticate", "HookEnvironment", "git_router", "mount", "served_root"]


def mount(
    api: FastAPI,
    root: Path,
    *,
    authenticate: Authenticate | None = None,
    hook_environment: HookEnvironment | None = None,
) -> None:
    """Serve the bare repositories under ``root`` at ``/git/<name>.git``.

    ``authenticate`` (a platform credential → user name) makes the server require HTTP Basic
    credentials; without it, anyone who reaches the server may clone and push.
    ``hook_environment`` gives the hooks a push runs their repository's CI secrets.
    """
    api.include_router(git_router(root, authenticate, hook_environment))
