"""Logging for the platform's processes: one handler on the root logger, levels per logger, a
text or JSON line format, and the id of the HTTP request being served on every line.

Settings come from the environment, so they hold before any other setting is read:
``GOLDENPATH_LOG_LEVEL`` (default ``INFO``), ``GOLDENPATH_LOG_LEVELS`` (per logger, e.g.
``procrastinate=WARNING,goldenpath.api=DEBUG``) and ``GOLDENPATH_LOG_FORMAT`` (``text`` or
``json``). Only the server commands configure logging; a library user's or a test's logging is
left alone.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from pythonjsonlogger.json import JsonFormatter

from goldenpath.errors import ConfigurationError

P = ParamSpec("P")
R = TypeVar("R")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
# uvicorn's own loggers keep their handlers unless told; they log through ours instead.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the HTTP request it was logged in (``-`` outside)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class _PlatformHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Our handler, told apart from others' (pytest's, a host application's)."""


def configure_logging(environ: dict[str, str] | None = None) -> None:
    """Install the platform's handler on the root logger (again: replacing its own only)."""
    env = dict(os.environ if environ is None else environ)
    level = _level(env.get("GOLDENPATH_LOG_LEVEL", "INFO"), "GOLDENPATH_LOG_LEVEL")
    kind = env.get("GOLDENPATH_LOG_FORMAT", "text").strip().lower()
    if kind not in ("text", "json"):
        raise ConfigurationError(problem="GOLDENPATH_LOG_FORMAT must be 'text' or 'json'")
    handler = _PlatformHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
        if kind == "json"
        else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _PlatformHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, wanted in _per_logger(env.get("GOLDENPATH_LOG_LEVELS", "")).items():
        logging.getLogger(name).setLevel(wanted)
    adopt_uvicorn_loggers()


def with_logging(command: Callable[P, R]) -> Callable[P, R]:
    """A server command that configures logging before it does anything else."""

    @functools.wraps(command)
    def configured(*args: P.args, **kwargs: P.kwargs) -> R:
        configure_logging()
        return command(*args, **kwargs)

    return configured


def adopt_uvicorn_loggers() -> None:
    """uvicorn configures its loggers with handlers of its own when it starts: route them
    through the root handler, so they share the format and the request id."""
    if not any(isinstance(h, _PlatformHandler) for h in logging.getLogger().handlers):
        return
    for name in UVICORN_LOGGERS:
        found = logging.getLogger(name)
        found.handlers.clear()
        found.propagate = True


def _level(text: str, where: str) -> int:
    name = text.strip().upper()
    if name not in LEVELS:
        raise ConfigurationError(problem=f"{where}: '{text}' is not one of {', '.join(LEVELS)}")
    return int(getattr(logging, name))


def _per_logger(text: str) -> dict[str, int]:
    levels: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise ConfigurationError(problem=f"GOLDENPATH_LOG_LEVELS: '{item}' is not LOGGER=LEVEL")
        levels[name.strip()] = _level(value, f"GOLDENPATH_LOG_LEVELS ({name.strip()})")
    return levels
