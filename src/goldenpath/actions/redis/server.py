"""The Redis adapter the ``redis:*`` actions share.

It owns the admin connection (from the backend's ``dsn``), the translation of redis-py's
exceptions into ours (redis-py is imported on first use: a worker starts without it), a
per-name lock, and the ownership markers. Redis ACL users carry no
comment, so the platform keeps one key per user it created, ``goldenpath:acl:<name>``, holding
the resource's marker and what was set (password hash, the ACL as Redis reported it). Users'
key patterns never match ``goldenpath:*`` (the name ``goldenpath`` is reserved), so they cannot
read or forge their own marker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from goldenpath.errors import ActionError, BackendUnavailable
from goldenpath.settings import BackendSettings

if TYPE_CHECKING:
    import redis

MARKER_PREFIX = "goldenpath:acl:"
LOCK_PREFIX = "goldenpath:lock:acl:"
# Seconds: how long a lock outlives a crashed holder, and how long to wait for one.
LOCK_TTL = 120
LOCK_WAIT = 30
DEFAULT_PORT = 6379


@dataclass(frozen=True)
class ServerAddress:
    """What a ``redis://[user:password@]host:port/db`` (or ``rediss://``) DSN says."""

    scheme: str
    host: str
    port: int
    db: int


def parse_dsn(dsn: str) -> ServerAddress:
    """Read the admin DSN; raises ValueError with a message that never repeats the password."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError("dsn must start with redis:// or rediss://")
    try:
        port = parts.port or DEFAULT_PORT
        db = int(parts.path.strip("/") or 0)
    except ValueError:
        raise ValueError("dsn has an invalid port or database number") from None
    if not parts.hostname:
        raise ValueError("dsn names no host")
    return ServerAddress(scheme=parts.scheme, host=parts.hostname, port=port, db=db)


class Admin:
    """The admin connection; every redis-py error leaves it as one of ours."""

    def __init__(self, client: redis.Redis, backend_name: str) -> None:
        self.client = client
        self.backend_name = backend_name

    def call(self, *args: Any) -> Any:
        with translated(self.backend_name, f"{args[0]} {args[1]}"):
            # redis-py leaves execute_command unannotated; replies are checked by the callers.
            return self.client.execute_command(*args)  # type: ignore[no-untyped-call]

    def acl_user(self, name: str) -> dict[str, Any] | None:
        """``ACL GETUSER`` as a dict (flags, passwords, commands, keys, ...), None if absent."""
        with translated(self.backend_name, "ACL GETUSER"):
            found = self.client.acl_getuser(name)
        return None if found is None else dict(cast("dict[str, Any]", found))

    def marker(self, name: str) -> dict[str, Any] | None:
        raw = self.call("GET", MARKER_PREFIX + name)
        if raw is None:
            return None
        try:
            loaded = json.loads(raw)
        except ValueError:
            return {"marker": None}
        return loaded if isinstance(loaded, dict) else {"marker": None}

    def set_marker(self, name: str, document: dict[str, Any]) -> None:
        self.call("SET", MARKER_PREFIX + name, json.dumps(document, sort_keys=True))

    def delete_marker(self, name: str) -> None:
        self.call("DEL", MARKER_PREFIX + name)

    def persist_acl(self) -> bool:
        """Save the ACL to the server's ``aclfile`` when it has one; False when it has none.

        Without an aclfile, users live in memory only and a restart loses them (observe then
        reports the resource as gone).
        """
        try:
            aclfile = self.call("CONFIG", "GET", "aclfile")
        except ActionError:
            # An admin user without CONFIG rights: we cannot tell, so we do not save.
            return False
        if not _config_value(aclfile):
            return False
        self.call("ACL", "SAVE")
        return True

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """One operation on one user at a time, across workers."""
        from redis.exceptions import RedisError

        lock = self.client.lock(LOCK_PREFIX + name, timeout=LOCK_TTL, blocking_timeout=LOCK_WAIT)
        with translated(self.backend_name, "LOCK"):
            acquired = lock.acquire()
        if not acquired:
            raise ActionError(problem=f"another operation holds the lock on '{name}'; try again")
        try:
            yield
        finally:
            # Expired, or the server went away: the TTL frees it either way.
            with suppress(RedisError):
                lock.release()


@contextmanager
def translated(backend_name: str, what: str) -> Iterator[None]:
    """redis-py's errors as ours: the server unreachable, or refusing ``what``."""
    from redis.exceptions import ConnectionError, RedisError, TimeoutError

    try:
        yield
    except (ConnectionError, TimeoutError) as exc:
        raise BackendUnavailable(backend=backend_name, problem=str(exc)) from exc
    except RedisError as exc:
        raise ActionError(problem=f"Redis refused {what}: {exc}") from exc


@contextmanager
def admin_session(backend: BackendSettings, backend_name: str) -> Iterator[Admin]:
    import redis

    if not backend.dsn:
        raise BackendUnavailable(backend=backend_name, problem="no 'dsn' configured")
    try:
        parse_dsn(backend.dsn)
        client = redis.Redis.from_url(
            backend.dsn,
            decode_responses=True,
            socket_connect_timeout=10,
            socket_timeout=30,
        )
    except ValueError as exc:
        raise BackendUnavailable(backend=backend_name, problem=str(exc)) from None
    try:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise BackendUnavailable(backend=backend_name, problem=str(exc)) from exc
        yield Admin(client, backend_name)
    finally:
        client.close()


def public_address(backend: BackendSettings) -> ServerAddress:
    """Where developers reach the server: the configured public address, else the DSN's."""
    address = parse_dsn(backend.dsn or "")
    return ServerAddress(
        scheme=address.scheme,
        host=backend.public_host or address.host,
        port=backend.public_port or address.port,
        db=address.db,
    )


def _config_value(reply: Any) -> str:
    """CONFIG GET answers a dict (RESP3, redis-py's callback) or a flat list (RESP2)."""
    if isinstance(reply, dict):
        return str(next(iter(reply.values()), "") or "")
    if isinstance(reply, list) and len(reply) >= 2:
        return str(reply[1] or "")
    return ""
