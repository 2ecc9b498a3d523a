"""`StateStore` on the platform's database: Terraform state sealed with the platform's key,
and workspace locks as leased rows (no session lock a stranger on the server could take).

The state is sealed with `SecretBox` like every other secret, so it rotates with the keys
(``goldenpath db reseal-secrets`` covers it) and a dump of the database holds no clear state.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from goldenpath.secretbox import SecretBox
from goldenpath.store import tables
from goldenpath.store.database import Database

LEASE_SECONDS = 30.0

_states = tables.terraform_states
_locks = tables.terraform_locks


class SealedStateStore:
    """Terraform workspaces' state and locks in ``gp_terraform_states`` / ``gp_terraform_locks``."""

    def __init__(
        self, database: Database, box: SecretBox, lease_seconds: float = LEASE_SECONDS
    ) -> None:
        self._database = database
        self._box = box
        self.lease_seconds = lease_seconds

    def read(self, key: str) -> bytes | None:
        with self._database.begin() as conn:
            sealed = conn.execute(
                sa.select(_states.c.state).where(_states.c.workspace == key)
            ).scalar_one_or_none()
        if sealed is None:
            return None
        return base64.b64decode(self._box.open(bytes(sealed)))

    def read_prefix(self, prefix: str) -> list[bytes]:
        """Every value whose key starts with ``prefix``, opened (the local CI secrets of one
        repository, for its hooks)."""
        with self._database.begin() as conn:
            sealed = conn.execute(
                sa.select(_states.c.state).where(sa.func.starts_with(_states.c.workspace, prefix))
            ).scalars()
            return [base64.b64decode(self._box.open(bytes(blob))) for blob in sealed]

    def write(self, key: str, value: bytes, *, only_if_absent: bool = False) -> bool:
        sealed = self._box.seal(base64.b64encode(value).decode())
        statement = insert(_states).values(workspace=key, state=sealed)
        if only_if_absent:
            statement = statement.on_conflict_do_nothing(index_elements=[_states.c.workspace])
        else:
            statement = statement.on_conflict_do_update(
                index_elements=[_states.c.workspace],
                set_={"state": sealed, "updated_at": sa.func.now()},
            )
        # RETURNING, not rowcount: the driver reports -1 (true) for an insert that did nothing.
        with self._database.begin() as conn:
            return conn.execute(statement.returning(_states.c.workspace)).first() is not None

    def delete(self, key: str) -> None:
        with self._database.begin() as conn:
            conn.execute(_states.delete().where(_states.c.workspace == key))

    def delete_older_than(self, prefix: str, seconds: float) -> None:
        written_before = sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, seconds)
        with self._database.begin() as conn:
            conn.execute(
                _states.delete().where(
                    sa.func.starts_with(_states.c.workspace, prefix),
                    _states.c.updated_at < written_before,
                )
            )

    def acquire(
        self, key: str, kind: str, holder: str, info: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        lapsed = _locks.c.renewed_at < self._lease_start()
        statement = (
            insert(_locks)
            .values(workspace=key, kind=kind, holder=holder, info=dict(info))
            .on_conflict_do_update(
                index_elements=[_locks.c.workspace, _locks.c.kind],
                set_={"holder": holder, "info": dict(info), "renewed_at": sa.func.now()},
                where=lapsed,
            )
            .returning(_locks.c.holder)
        )
        for _ in range(3):
            with self._database.begin() as conn:
                if conn.execute(statement).first() is not None:
                    return None
                held = conn.execute(
                    sa.select(_locks.c.info).where(_locks.c.workspace == key, _locks.c.kind == kind)
                ).scalar_one_or_none()
            if held is not None:
                return dict(held)
            # Released between the two statements: try again.
        return {"ID": "", "Info": "the lock changed hands repeatedly; try again"}

    def holding(self, key: str, kind: str) -> tuple[str, Mapping[str, Any]] | None:
        with self._database.begin() as conn:
            row = conn.execute(
                sa.select(_locks.c.holder, _locks.c.info).where(
                    _locks.c.workspace == key,
                    _locks.c.kind == kind,
                    _locks.c.renewed_at >= self._lease_start(),
                )
            ).first()
        return (row.holder, dict(row.info)) if row is not None else None

    def _lease_start(self) -> sa.ColumnElement[Any]:
        """Leases renewed before this have lapsed."""
        return sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, self.lease_seconds)

    def release(self, key: str, kind: str, holder: str | None = None) -> None:
        statement = _locks.delete().where(_locks.c.workspace == key, _locks.c.kind == kind)
        if holder is not None:
            statement = statement.where(_locks.c.holder == holder)
        with self._database.begin() as conn:
            conn.execute(statement)

    def renew(self, holder: str) -> None:
        with self._database.begin() as conn:
            conn.execute(
                _locks.update().where(_locks.c.holder == holder).values(renewed_at=sa.func.now())
            )

    def release_all(self, holder: str, kind: str | None = None) -> None:
        statement = _locks.delete().where(_locks.c.holder == holder)
        if kind is not None:
            statement = statement.where(_locks.c.kind == kind)
        with self._database.begin() as conn:
            conn.execute(statement)
