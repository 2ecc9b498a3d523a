"""Run locks: a session advisory lock, and the one connection its holder works through.

A request (or a resource being destroyed) is run by one worker at a time: the worker takes a
PostgreSQL session advisory lock on a connection it keeps for the whole run. If the process
dies, PostgreSQL drops the connection and the lock with it, so a recovered job can take over.

The holder's own reads and writes go through that same connection, so each of them proves the
lock is still held: after a database restart (the session, and the lock, gone) the statement
fails instead of writing without the lock, and the connection is never quietly replaced by a
new one that holds nothing. Work done elsewhere (an action's own connections) asks `check`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from goldenpath.errors import LockLost
from goldenpath.store.database import Database

_TAKE = sa.text("SELECT pg_try_advisory_lock(hashtext(:k))")
_RELEASE = sa.text("SELECT pg_advisory_unlock(hashtext(:k))")


class HeldLock:
    """An advisory lock and its connection; falsy when another session holds the lock."""

    def __init__(self, key: str, connection: sa.Connection) -> None:
        self.key = key
        self.acquired = self.lost = False
        self._connection = connection
        self._level = connection.default_isolation_level
        with self.statement() as conn:
            self.acquired = bool(conn.execute(_TAKE, {"k": key}).scalar())

    def __bool__(self) -> bool:
        return self.acquired

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A transaction on the lock's connection."""
        self._usable()
        try:
            with self._connection.begin():
                yield self._connection
        except sa.exc.DBAPIError as exc:
            self._lost_with(exc)
            raise

    @contextmanager
    def statement(self) -> Iterator[sa.Connection]:
        """The lock's connection in autocommit, for one read or one write that needs nothing
        beside it (no BEGIN and COMMIT round trips)."""
        self._usable()
        conn = self._connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield conn
        except sa.exc.DBAPIError as exc:
            self._lost_with(exc)
            raise
        finally:
            if not conn.invalidated:
                conn.rollback()  # ends SQLAlchemy's autobegun block: nothing is sent
                conn.execution_options(isolation_level=self._level)

    def check(self) -> None:
        """Go on only while the lock is held (one round trip on its connection)."""
        if not self.acquired:
            return
        try:
            with self.statement() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError as exc:
            raise LockLost(key=self.key) from exc

    def release(self) -> None:
        if not self.acquired or self.lost or self._connection.invalidated:
            return
        try:
            with self.statement() as conn:
                conn.execute(_RELEASE, {"k": self.key})
        except (sa.exc.DBAPIError, LockLost):
            pass  # the connection is gone, and the lock with its session

    def _usable(self) -> None:
        if self.acquired and (self.lost or self._connection.invalidated):
            # A reconnected connection would hold nothing: never write through it.
            self.lost = True
            raise LockLost(key=self.key)

    def _lost_with(self, exc: sa.exc.DBAPIError) -> None:
        if exc.connection_invalidated or self._connection.invalidated:
            self.lost = True


@contextmanager
def held(database: Database, key: str) -> Iterator[HeldLock]:
    """Try the lock ``key`` on a connection of its own, kept until the block ends."""
    with database.engine.connect() as connection:
        lock = HeldLock(key, connection)
        try:
            yield lock
        finally:
            lock.release()
