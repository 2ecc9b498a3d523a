"""The application factory each `goldenpath api` process (uvicorn worker) imports: the
platform from the settings, composed without a worker and without migrating (the command
that started the processes did that once)."""

from __future__ import annotations

from fastapi import FastAPI

from goldenpath.api.app import create_api
from goldenpath.app import build_platform
from goldenpath.logs import configure_logging
from goldenpath.settings import load_settings


def create_app() -> FastAPI:
    configure_logging()  # a process of its own: the command's configuration is not inherited
    platform = build_platform(load_settings(), migrate=False)
    return create_api(platform, run_worker=False, close_on_shutdown=True)
