"""Telling the platform's database being unreachable from other database errors, and saying
so once per outage (not a traceback per request or per retry)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import psycopg
import psycopg_pool
import sqlalchemy as sa

from goldenpath.errors import GoldenPathError

# SQLSTATE classes of a lost connection: 08 (connection exception) and 57P (the server is
# shutting down, crashed or not yet accepting connections).
_LOST_CONNECTION = ("08", "57P")


def is_database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be reached, as opposed to
    a query it refused (a constraint, a lock timeout)."""
    for error in _chain(exc):
        if isinstance(error, psycopg_pool.PoolTimeout):
            return True
        if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            state = error.sqlstate
            if state is None or state.startswith(_LOST_CONNECTION):
                return True
    return False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the driver error SQLAlchemy wraps, and what caused or preceded each."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        error = pending.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        if isinstance(error, GoldenPathError):
            # Translated at an adapter: a backend's database (the developer's PostgreSQL,
            # MariaDB) failing is that backend's error, never the platform's outage.
            continue
        wrapped = error.orig if isinstance(error, sa.exc.DBAPIError) else None
        for cause in (wrapped, error.__cause__, error.__context__):
            if isinstance(cause, BaseException):
                pending.append(cause)


def first_line(exc: BaseException) -> str:
    cause: BaseException = exc
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        cause = exc.orig
    elif exc.__cause__ is not None:
        cause = exc.__cause__
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__


class Outage:
    """One warning when the database stops answering, one when it answers again.

    Thread-safe: the API's request threads and a worker's loop report to the same one.
    """

    def __init__(self, logger: logging.Logger, consequence: str) -> None:
        self._logger = logger
        self._consequence = consequence
        self._lock = threading.Lock()
        self._since: float | None = None

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        self._logger.warning(
            "the platform's database is unreachable (%s): %s", first_line(exc), self._consequence
        )

    def recovered(self) -> None:
        with self._lock:
            if self._since is None:
                return
            lasted, self._since = time.monotonic() - self._since, None
        self._logger.warning("the platform's database answers again (after %.1f s)", lasted)


class QuietOutage(logging.Filter):
    """Drops the records in which libraries repeat that the database is unreachable (a
    traceback per failed side task or job, a line per reconnect attempt of a pool), after
    reporting the outage once to ``outage``. Everything else passes."""

    def __init__(self, outage: Outage) -> None:
        super().__init__()
        self._outage = outage

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and is_database_unreachable(error):
            self._outage.failed(error)
            return False
        if record.name == "psycopg.pool" and record.getMessage().startswith("error connecting"):
            self._outage.failed(ConnectionError(record.getMessage()))
            return False
        return True

    def install(self, *loggers: str) -> None:
        for name in loggers:
            logging.getLogger(name).addFilter(self)

    def remove(self, *loggers: str) -> None:
        for name in loggers:
            logging.getLogger(name).removeFilter(self)
