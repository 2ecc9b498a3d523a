"""Alembic environment: runs on the connection the platform hands over in ``attributes``."""

from __future__ import annotations

from alembic import context

from goldenpath.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
