"""The platform database: engine creation, migrations, and the embedded server when unset."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from goldenpath.settings import Settings
from goldenpath.store.embedded import EmbeddedServer, start_embedded

MIGRATIONS = Path(__file__).parent / "migrations"


logger = logging.getLogger(__name__)


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

    @contextmanager
    def autocommit(self) -> Iterator[sa.Connection]:
        """A connection in autocommit: each statement commits on its own, without the round
        trips of BEGIN and COMMIT. For one read, or one write that needs nothing beside it."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
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
    # A running job holds two connections (its run lock, its transactions): the pool grows
    # to fit the worker's concurrency beside the API's requests.
    engine = sa.create_engine(
        url,
        pool_size=10,
        max_overflow=max(20, 2 * settings.worker_concurrency),
        pool_recycle=300,
    )
    database = Database(engine=engine, embedded=embedded)
    if migrate:
        # Alembic (a tenth of a second to import, more to read its scripts) only when the
        # schema is behind: most starts, every worker's among them, find it current.
        if current_revision(database) != newest_migration():
            upgrade(database)
        restrict_connect(database)
    return database


def newest_migration() -> str:
    """The newest migration's revision, from its file name (``0008_terraform_state.py``:
    ``0008``); a test holds it to Alembic's own head."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("*_*.py"))


def current_revision(database: Database) -> str | None:
    """The schema's revision, None before the first migration."""
    with database.engine.connect() as conn:
        if conn.execute(sa.text("SELECT to_regclass('alembic_version')")).scalar() is None:
            return None
        version: str | None = conn.execute(
            sa.text("SELECT version_num FROM alembic_version")
        ).scalar()
        return version


def restrict_connect(database: Database) -> None:
    """Only the platform's own role may connect to the platform's database.

    PostgreSQL grants CONNECT to PUBLIC by default, so a role made for a developer on the same
    server could connect here, read the catalog and take the platform's advisory locks (they
    are per database). Revoked at every start; a role that may not revoke it gets a warning.
    """
    with database.engine.begin() as conn:
        try:
            with conn.begin_nested():
                name = conn.execute(sa.text("SELECT current_database()")).scalar_one()
                me = conn.execute(sa.text("SELECT current_user")).scalar_one()
                conn.execute(sa.text(f"REVOKE CONNECT ON DATABASE {_ident(name)} FROM PUBLIC"))
                conn.execute(sa.text(f"GRANT CONNECT ON DATABASE {_ident(name)} TO {_ident(me)}"))
        except sa.exc.DBAPIError as exc:
            logger.warning(
                "could not revoke CONNECT on the platform's database from PUBLIC (%s): any role "
                "on this server, developers' included, may connect to it; run "
                "REVOKE CONNECT ON DATABASE ... FROM PUBLIC as its owner",
                str(exc.orig).strip().splitlines()[0],
            )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def head_revision() -> str | None:
    """The newest migration this version of the platform knows, as Alembic reads it."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def upgrade(database: Database, revision: str = "head") -> None:
    """Apply migrations; a PostgreSQL advisory lock serialises concurrent starts."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(74110001)"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
