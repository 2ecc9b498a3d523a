"""Shared pieces for the git:repo tests: a journal, contexts, ASGI apps served on real ports,
and a git client isolated from the machine's configuration."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from goldenpath.actions.base import Context, ResourceRef
from goldenpath.actions.git.repo import GitRepoInputs
from goldenpath.actions.testing import MemoryJournal
from goldenpath.settings import BackendSettings

NEW_REPO_TEMPLATE = Path(__file__).resolve().parents[4] / "starter" / "templates" / "new-repo"


def git_context(
    inputs: GitRepoInputs,
    backend: BackendSettings,
    *,
    data_dir: Path | None = None,
    template_dir: Path = NEW_REPO_TEMPLATE,
    resource_id: str = "r-1",
    journal: MemoryJournal | None = None,
) -> Context[GitRepoInputs]:
    return Context(
        inputs=inputs,
        backends={"git": backend},
        owner_team="payments",
        requested_by="alice",
        template_name="new-repo",
        template_dir=template_dir,
        data_dir=data_dir,
        request_id="req-1",
        step_id="repo",
        resource_id=resource_id,
        journal=journal or MemoryJournal(),
    )


def repo_ref(name: str, *, private: bool = True, resource_id: str = "r-1") -> ResourceRef:
    return ResourceRef(
        id=resource_id,
        type="git:repo",
        name=name,
        backend="git",
        config={"private": private, "default_branch": "main"},
        outputs={},
    )


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` on a free local port in a background thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test HTTP server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def git(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The git CLI as a developer runs it, minus this machine's global configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME="Alice",
        GIT_AUTHOR_EMAIL="alice@example.com",
        GIT_COMMITTER_NAME="Alice",
        GIT_COMMITTER_EMAIL="alice@example.com",
    )
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result


@pytest.fixture
def journal() -> MemoryJournal:
    return MemoryJournal()


def unused_url() -> str:
    """A URL on which nothing listens (a port bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
