"""``mysql:rotate-password``: a new generated password for the user a `mysql:database` step
made (a bound parameter, never in the statement text). The ledger records the new hash, so no
drift is reported."""

from __future__ import annotations

from typing import Any

from goldenpath.actions.base import ActionInputs, Context, NoInputs, ResourceRef, not_ours
from goldenpath.actions.mysql.database import (
    USER,
    MysqlDatabase,
    MysqlDatabaseInputs,
    connection_outputs,
    lock_key,
    set_password,
)
from goldenpath.actions.mysql.server import Ledger, admin_session
from goldenpath.actions.secret.rotation import PasswordRotation


class MysqlRotatePassword(PasswordRotation):
    id = "mysql:rotate-password"
    backend_kind = "mysql"
    description = "A new generated password for a database's user; the old one stops working."
    secret_outputs = frozenset({"password", "dsn"})
    operates_on = frozenset({MysqlDatabase.id})

    def set_password(
        self, ctx: Context[NoInputs], resource: ResourceRef, made_with: ActionInputs, password: str
    ) -> dict[str, Any]:
        assert isinstance(made_with, MysqlDatabaseInputs)
        name = resource.name
        backend = ctx.backend("mysql", made_with.backend)
        with admin_session(backend, made_with.backend) as db, db.lock(lock_key(name)):
            ledger = Ledger(db)
            if ledger.marker(USER, name) != ctx.marker:
                raise not_ours(f"user '{name}'", "its password is left alone")
            set_password(db, ledger, name, password)
        return connection_outputs(backend, name, password)
