"""Starts skip Alembic when the schema is current, judging by the newest migration's file
name: that has to be the head Alembic itself reads from the scripts."""

from __future__ import annotations

from goldenpath.store.database import head_revision, newest_migration


def test_the_newest_migration_file_is_alembics_head() -> None:
    assert newest_migration() == head_revision()
