"""The platform database: engine creation, migrations, and the embedded server when unset."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from goldenpath.settings import Settings
from goldenpath.store.embedded import EmbeddedServer, start_embedded

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Database:
    """The platform's PostgreSQL: an engine, and the embedded server if we started one."""

    engine: sa.Engine
    embedded: EmbeddedServer | None

    @property
    def url(self) -> sa.URL:
        return self.engine.url

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()


def sqlalchemy_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` URLs and use the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_conninfo(url: sa.URL) -> str:
    """The libpq connection string for a SQLAlchemy URL (Procrastinate wants one)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    embedded: EmbeddedServer | None = None
    if settings.database_url:
        url = sqlalchemy_url(settings.database_url)
    else:
        embedded = start_embedded(settings.data_dir, settings.embedded_port)
        url = embedded.admin_url
    # No pre-ping (a round trip on every checkout, a dozen per request): connections are
    # recycled instead, and a job that meets a dead connection is retried by the queue.
    engine = sa.create_engine(url, pool_size=10, max_overflow=20, pool_recycle=300)
    database = Database(engine=engine, embedded=embedded)
    if migrate:
        upgrade(database)
    return database


def upgrade(database: Database, revision: str = "head") -> None:
    """Apply migrations; a PostgreSQL advisory lock serialises concurrent starts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(74110001)"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
