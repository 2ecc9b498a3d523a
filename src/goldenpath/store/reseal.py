"""Key rotation: seal every stored secret again with the newest key.

Rotation is: put the new key first in ``GOLDENPATH_SECRET_KEY`` (``new,old``), restart, run
``goldenpath db reseal-secrets``, then drop the old key. Until the reseal, old secrets still
open with the old key they name.
"""

from __future__ import annotations

import sqlalchemy as sa

from goldenpath.secretbox import SecretBox
from goldenpath.store import tables
from goldenpath.store.database import Database

# Every sealed column, with the columns that identify its row.
SEALED: tuple[tuple[sa.Table, str, tuple[str, ...]], ...] = (
    (tables.requests, "secret_outputs", ("id",)),
    (tables.requests, "secret_parameters", ("id",)),
    (tables.steps, "secret_outputs", ("request_id", "step_id")),
    (tables.checkpoints, "value", ("request_id", "step_id", "key")),
    (tables.terraform_states, "state", ("workspace",)),
)


def reseal_all(database: Database, box: SecretBox) -> dict[str, int]:
    """Re-encrypt every sealed value with the box's newest key, in one transaction."""
    counts: dict[str, int] = {}
    with database.begin() as conn:
        for table, column, keys in SEALED:
            key_columns = [table.c[k] for k in keys]
            rows = conn.execute(
                sa.select(*key_columns, table.c[column]).where(table.c[column].is_not(None))
            ).all()
            for row in rows:
                *identity, sealed = row
                conn.execute(
                    table.update()
                    .where(*(c == v for c, v in zip(key_columns, identity, strict=True)))
                    .values({column: box.seal(box.open(bytes(sealed)))})
                )
            counts[f"{table.name}.{column}"] = len(rows)
    return counts
