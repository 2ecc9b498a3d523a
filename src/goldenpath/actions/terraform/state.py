"""Terraform's ``pg`` backend: one schema per workspace, one operation per workspace, and the
one-time import of its state into the platform's sealed store.

Terraform's ``pg`` backend keeps each workspace's state in ``<schema>.states`` and locks it with
a PostgreSQL advisory lock held by its own session. We add a lock of our own, on the same
server, around every operation on a workspace, so two workers never plan and apply one
workspace at once. Both are session locks: when a worker or a Terraform process dies, the
server closes its session and the locks go with it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from goldenpath.actions.state_store import StateStore
from goldenpath.actions.terraform.process import Deadline
from goldenpath.errors import ActionError, BackendUnavailable

SCHEMA_PREFIX = "tfstate_"
_MAX_IDENTIFIER = 63
# Two-key advisory locks live apart from the one-key locks Terraform's pg backend takes
# (keyed by state row id) and from the platform's own (one key, hashtext).
_LOCK_SQL = "SELECT pg_try_advisory_lock(hashtext('goldenpath:terraform'), hashtext(%s))"
_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('goldenpath:terraform'), hashtext(%s))"


class WorkspaceBusy(ActionError):
    """workspace '{workspace}' is busy with another operation; gave up after {seconds:g} s."""


def schema_name(workspace: str) -> str:
    """``tfstate_<workspace with - as _>``; hashed down to PostgreSQL's 63-character limit."""
    schema = SCHEMA_PREFIX + workspace.replace("-", "_")
    if len(schema) <= _MAX_IDENTIFIER:
        return schema
    digest = hashlib.sha256(workspace.encode()).hexdigest()[:8]
    return f"{schema[: _MAX_IDENTIFIER - 9]}_{digest}"


def terraform_conninfo(dsn: str, *, ssl_in_use: bool) -> str:
    """The connection string for Terraform's driver (lib/pq), which differs from libpq.

    lib/pq defaults to ``sslmode=require`` and knows no ``prefer``: unless the platform asked
    for a mode, use what libpq actually negotiated with this server.
    """
    params: dict[str, Any] = conninfo_to_dict(dsn)
    if "sslmode" not in params or params["sslmode"] in ("prefer", "allow"):
        params["sslmode"] = "require" if ssl_in_use else "disable"
    return make_conninfo(**params)


def connect(dsn: str, backend: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise BackendUnavailable(backend=backend, problem=str(exc).strip()) from exc


def probe(dsn: str, backend: str, workspace: str) -> tuple[str, bool]:
    """Terraform's connection string (SSL as negotiated), and whether the workspace has state.

    One short connection, without any lock: for planning only.
    """
    with connect(dsn, backend) as conn:
        row = conn.execute(
            "SELECT to_regclass(format('%%I.states', %s::text)) IS NOT NULL",
            (schema_name(workspace),),
        ).fetchone()
        conninfo = terraform_conninfo(dsn, ssl_in_use=bool(conn.pgconn.ssl_in_use))
    return conninfo, bool(row and row[0])


@contextmanager
def workspace_lock(
    dsn: str,
    backend: str,
    workspace: str,
    deadline: Deadline,
    log: Callable[[str], None],
) -> Iterator[str]:
    """Hold the workspace's lock; yields Terraform's connection string for the same server."""
    conn = connect(dsn, backend)
    try:
        delay = 0.2
        while not _try_lock(conn, workspace):
            if deadline.remaining <= delay:
                raise WorkspaceBusy(workspace=workspace, seconds=deadline.seconds)
            if delay == 0.2:
                log(f"waiting for another operation on workspace '{workspace}' to finish")
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        try:
            yield terraform_conninfo(dsn, ssl_in_use=bool(conn.pgconn.ssl_in_use))
        finally:
            if not conn.closed:
                conn.execute(_UNLOCK_SQL, (workspace,))
    finally:
        conn.close()


def _try_lock(conn: psycopg.Connection[Any], workspace: str) -> bool:
    row = conn.execute(_LOCK_SQL, (workspace,)).fetchone()
    return bool(row and row[0])


def import_pg_state(dsn: str, backend: str, workspace: str, store: StateStore) -> bool:
    """Move the workspace's state kept by the ``pg`` backend into ``store``, once.

    The state is copied only where the store holds none, and the clear copy (the workspace's
    schema) is dropped, so no secret is left in clear. True when a state was imported.
    """
    schema = schema_name(workspace)
    with connect(dsn, backend) as conn:
        found = conn.execute(
            "SELECT to_regclass(format('%%I.states', %s::text)) IS NOT NULL", (schema,)
        ).fetchone()
        if not (found and found[0]):
            return False
        row = conn.execute(
            sql.SQL("SELECT data FROM {}.states WHERE name = 'default'").format(
                sql.Identifier(schema)
            )
        ).fetchone()
        imported = (
            row is not None
            and bool(row[0])
            and store.write(workspace, str(row[0]).encode(), only_if_absent=True)
        )
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return imported
