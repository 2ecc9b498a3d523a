"""The MySQL/MariaDB adapter the ``mysql:*`` actions share.

It owns the admin connection (parsed from the backend's ``dsn``), the translation of PyMySQL's
exceptions into ours (PyMySQL is imported on first use: a worker starts without it), a
per-name lock, and the ownership ledger. MariaDB has no comments on users or databases, so
what the platform creates is recorded in a small table on the same server,
``goldenpath_meta.owned``: a retried step finds its own marker there, and a user or database
with no row (or another resource's row) is never adopted, altered or dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

from goldenpath.errors import ActionError, BackendUnavailable
from goldenpath.settings import BackendSettings

if TYPE_CHECKING:
    import pymysql
    import pymysql.cursors
    from pymysql.connections import Connection

META_DATABASE = "goldenpath_meta"
DEFAULT_PORT = 3306
# Seconds to wait for another operation on the same name before giving up.
LOCK_TIMEOUT = 30
# PyMySQL's own client errors (2000-2999): the server went away or never answered.
_CLIENT_ERRORS = range(2000, 3000)

# A string: PyMySQL's Connection is generic only in its type stubs.
AdminConnection: TypeAlias = "Connection[pymysql.cursors.Cursor]"


@dataclass(frozen=True)
class ServerAddress:
    """What a ``mysql://user:password@host:port/`` DSN says (``?unix_socket=`` also works)."""

    user: str
    password: str
    host: str
    port: int
    unix_socket: str | None = None


def parse_dsn(dsn: str) -> ServerAddress:
    """Read the admin DSN; raises ValueError with a message that never repeats the password."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("mysql", "mariadb", "mysql+pymysql"):
        raise ValueError("dsn must start with mysql:// (mysql://user:password@host:port/)")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError("dsn has an invalid port") from None
    socket = parse_qs(parts.query).get("unix_socket", [None])[0]
    if not parts.hostname and not socket:
        raise ValueError("dsn names no host and no unix_socket")
    return ServerAddress(
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        host=parts.hostname or "localhost",
        port=port,
        unix_socket=socket,
    )


def connect(
    backend: BackendSettings,
    backend_name: str,
    *,
    timeout: float = 10,
    read_timeout: float | None = None,
) -> AdminConnection:
    """An autocommit admin connection; every failure to get one is `BackendUnavailable`."""
    import pymysql

    if not backend.dsn:
        raise BackendUnavailable(backend=backend_name, problem="no 'dsn' configured")
    try:
        address = parse_dsn(backend.dsn)
    except ValueError as exc:
        raise BackendUnavailable(backend=backend_name, problem=str(exc)) from None
    try:
        return pymysql.connect(
            host=address.host,
            port=address.port,
            user=address.user,
            password=address.password,
            unix_socket=address.unix_socket,
            autocommit=True,
            connect_timeout=timeout,
            read_timeout=read_timeout,
            charset="utf8mb4",
        )
    except pymysql.MySQLError as exc:
        raise BackendUnavailable(backend=backend_name, problem=_describe(exc)) from exc


def public_address(backend: BackendSettings) -> tuple[str, int]:
    """Where developers reach the server: the configured public address, else the DSN's."""
    address = parse_dsn(backend.dsn or "")
    host = backend.public_host or (address.host if not address.unix_socket else "127.0.0.1")
    return host, backend.public_port or address.port


def quote_identifier(name: str) -> str:
    """A backtick-quoted identifier. Names are validated first; this is the second fence."""
    if "\0" in name:
        raise ActionError(problem="identifier contains a NUL character")
    return "`" + name.replace("`", "``") + "`"


def grant_pattern(database: str) -> str:
    """The database part of a ``GRANT ... ON <db>.*``, with its wildcards escaped.

    In database-level grants ``_`` and ``%`` are wildcards: ``ON `a_b`.*`` also covers a
    database ``axb``. Escaped, the grant names exactly one database.
    """
    escaped = database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
    return quote_identifier(escaped)


class Session:
    """Runs statements on the admin connection, translating PyMySQL errors at one place."""

    def __init__(self, conn: AdminConnection, backend_name: str) -> None:
        self.conn = conn
        self.backend_name = backend_name

    def execute(
        self, statement: str, args: tuple[Any, ...] = (), *, secret: bool = False
    ) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows.

        ``secret=True`` for statements carrying a password: the server's message for a
        syntax error quotes the statement, so only the error code is reported.
        """
        import pymysql

        try:
            with self.conn.cursor() as cursor:
                cursor.execute(statement, args or None)
                return list(cursor.fetchall())
        except pymysql.MySQLError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if code in _CLIENT_ERRORS:
                raise BackendUnavailable(backend=self.backend_name, problem=_describe(exc)) from exc
            if secret:
                raise ActionError(problem=f"MariaDB error {code}") from None
            raise ActionError(problem=_describe(exc)) from exc

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """A named server lock, held by this session: one operation on one name at a time."""
        rows = self.execute("SELECT GET_LOCK(%s, %s)", (key, LOCK_TIMEOUT))
        if not rows or rows[0][0] != 1:
            raise ActionError(problem=f"another operation holds the lock '{key}'; try again")
        try:
            yield
        finally:
            if self.conn.open:
                self.execute("SELECT RELEASE_LOCK(%s)", (key,))

    def close(self) -> None:
        if self.conn.open:
            self.conn.close()


@contextmanager
def admin_session(backend: BackendSettings, backend_name: str) -> Iterator[Session]:
    session = Session(connect(backend, backend_name), backend_name)
    try:
        yield session
    finally:
        session.close()


class Ledger:
    """The ownership table: which user and database each resource created (its marker)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._table = f"{quote_identifier(META_DATABASE)}.`owned`"

    def ensure(self) -> None:
        """Create the table on first use; harmless afterwards."""
        self._session.execute(
            f"CREATE DATABASE IF NOT EXISTS {quote_identifier(META_DATABASE)} CHARACTER SET utf8mb4"
        )
        self._session.execute(
            f"CREATE TABLE IF NOT EXISTS {self._table} ("
            " kind VARCHAR(16) NOT NULL,"
            " name VARCHAR(64) NOT NULL,"
            " marker VARCHAR(255) NOT NULL,"
            # plugin:authentication_string after apply, to notice a password changed out of band
            " credential VARCHAR(512) NULL,"
            " created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
            " PRIMARY KEY (kind, name)"
            ") ENGINE=InnoDB"
        )

    def exists(self) -> bool:
        rows = self._session.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            (META_DATABASE, "owned"),
        )
        return bool(rows)

    def marker(self, kind: str, name: str) -> str | None:
        if not self.exists():
            return None
        rows = self._session.execute(
            f"SELECT marker FROM {self._table} WHERE kind = %s AND name = %s", (kind, name)
        )
        return str(rows[0][0]) if rows else None

    def credential(self, kind: str, name: str) -> str | None:
        if not self.exists():
            return None
        rows = self._session.execute(
            f"SELECT credential FROM {self._table} WHERE kind = %s AND name = %s", (kind, name)
        )
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def claim(self, kind: str, name: str, marker: str) -> None:
        """Record ``marker`` as the owner of ``name``, replacing a stale row of another owner.

        Called only after checking that no object of that name exists unless it is ours.
        """
        self._session.execute(
            f"INSERT INTO {self._table} (kind, name, marker) VALUES (%s, %s, %s) "
            "ON DUPLICATE KEY UPDATE marker = VALUES(marker), credential = NULL, "
            "created_at = CURRENT_TIMESTAMP",
            (kind, name, marker),
        )

    def set_credential(self, kind: str, name: str, credential: str) -> None:
        self._session.execute(
            f"UPDATE {self._table} SET credential = %s WHERE kind = %s AND name = %s",
            (credential, kind, name),
        )

    def release(self, kind: str, name: str, marker: str) -> None:
        """Forget ``name`` if (and only if) the row is ours."""
        if self.exists():
            self._session.execute(
                f"DELETE FROM {self._table} WHERE kind = %s AND name = %s AND marker = %s",
                (kind, name, marker),
            )


def _describe(exc: pymysql.MySQLError) -> str:
    if len(exc.args) >= 2:
        return f"{exc.args[1]} (error {exc.args[0]})"
    return str(exc) or type(exc).__name__
