"""``postgres:rotate-password``: a new generated password for the role a `postgres:database`
step made. Open sessions are left alone (PostgreSQL checks a password when a session starts)."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from goldenpath.actions.base import ActionInputs, Context, NoInputs, ResourceRef, not_ours
from goldenpath.actions.postgres.database import (
    PostgresDatabase,
    PostgresDatabaseInputs,
    admin_connection,
    connection_outputs,
    name_lock,
    role_marker,
)
from goldenpath.actions.secret.rotation import PasswordRotation


class PostgresRotatePassword(PasswordRotation):
    id = "postgres:rotate-password"
    backend_kind = "postgres"
    description = "A new generated password for a database's role; the old one stops working."
    secret_outputs = frozenset({"password", "dsn"})
    operates_on = frozenset({PostgresDatabase.id})

    def set_password(
        self, ctx: Context[NoInputs], resource: ResourceRef, made_with: ActionInputs, password: str
    ) -> dict[str, Any]:
        assert isinstance(made_with, PostgresDatabaseInputs)
        backend = ctx.backend("postgres", made_with.backend)
        with admin_connection(backend, made_with.backend) as conn, name_lock(conn, resource.name):
            if role_marker(conn, resource.name) != ctx.marker:
                raise not_ours(f"role '{resource.name}'", "its password is left alone")
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(resource.name), sql.Literal(password)
                )
            )
        return connection_outputs(backend, resource.name, password)
