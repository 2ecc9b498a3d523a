"""postgres:database against the machine's real PostgreSQL (and the embedded one for passwords)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from goldenpath.actions.base import Context, ResourceRef
from goldenpath.actions.postgres.database import PostgresDatabase, PostgresDatabaseInputs
from goldenpath.actions.testing import MemoryJournal
from goldenpath.errors import ActionError, BackendUnavailable
from goldenpath.settings import BackendSettings
from goldenpath.store.embedded import start_embedded
from tests.conftest import ADMIN_URL


def context(
    name: str,
    *,
    dsn: str = ADMIN_URL,
    resource_id: str = "r-1",
    journal: MemoryJournal | None = None,
    connection_limit: int = -1,
    **backend: Any,
) -> Context[PostgresDatabaseInputs]:
    return Context(
        inputs=PostgresDatabaseInputs(name=name, connection_limit=connection_limit),
        backends={"postgres": BackendSettings(kind="postgres", dsn=dsn, **backend)},
        owner_team="payments",
        requested_by="alice",
        template_name="postgres-database",
        request_id="req-1",
        step_id="db",
        resource_id=resource_id,
        journal=journal or MemoryJournal(),
    )


def ref(name: str, resource_id: str = "r-1", connection_limit: int = -1) -> ResourceRef:
    return ResourceRef(
        id=resource_id,
        type="postgres:database",
        name=name,
        backend="postgres",
        config={"connection_limit": connection_limit},
        outputs={},
    )


def exists(pg_admin: psycopg.Connection[Any], name: str) -> tuple[bool, bool]:
    role = pg_admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    db = pg_admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return role is not None, db is not None


def test_creates_a_private_database_its_owner_can_use_and_destroy_removes_both(
    pg_admin: psycopg.Connection[Any], unique_name: Callable[[str], str]
) -> None:
    name = unique_name("orders")
    action = PostgresDatabase()
    outputs = action.apply(context(name, connection_limit=7))

    assert exists(pg_admin, name) == (True, True)
    with psycopg.connect(outputs["dsn"]) as conn:
        conn.execute("CREATE TABLE t (i int)")
        conn.execute("INSERT INTO t VALUES (1)")
        assert conn.execute("SELECT current_user, current_database()").fetchone() == (name, name)
    public = pg_admin.execute(
        "SELECT has_database_privilege('public', %s, 'CONNECT')", (name,)
    ).fetchone()
    assert public == (False,)
    limit = pg_admin.execute(
        "SELECT datconnlimit FROM pg_database WHERE datname = %s", (name,)
    ).fetchone()
    assert limit == (7,)

    action.destroy(context(name), ref(name))
    assert exists(pg_admin, name) == (False, False)
    action.destroy(context(name), ref(name))  # already gone: still fine


def test_a_retried_apply_reuses_its_own_role_and_database(
    pg_admin: psycopg.Connection[Any], unique_name: Callable[[str], str]
) -> None:
    """A crash after CREATE but before the step was recorded: the retry must carry on."""
    name = unique_name("retry")
    journal = MemoryJournal()
    action = PostgresDatabase()
    first = action.apply(context(name, journal=journal))
    second = action.apply(context(name, journal=journal))
    assert first == second
    count = pg_admin.execute(
        "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
    ).fetchone()
    assert count == (1,)
    with psycopg.connect(second["dsn"]) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    action.destroy(context(name), ref(name))


def test_refuses_to_adopt_or_drop_a_role_it_did_not_create(
    pg_admin: psycopg.Connection[Any], unique_name: Callable[[str], str]
) -> None:
    name = unique_name("foreign")
    pg_admin.execute(f'CREATE ROLE "{name}" LOGIN')
    action = PostgresDatabase()
    with pytest.raises(ActionError, match=r"already exists .* not created by this\s+request"):
        action.apply(context(name))
    with pytest.raises(ActionError, match="not the one this resource created"):
        action.destroy(context(name), ref(name))
    assert exists(pg_admin, name) == (True, False)
    pg_admin.execute(f'DROP ROLE "{name}"')


def test_another_resource_cannot_take_over_the_same_name(
    pg_admin: psycopg.Connection[Any], unique_name: Callable[[str], str]
) -> None:
    name = unique_name("taken")
    action = PostgresDatabase()
    action.apply(context(name, resource_id="r-owner"))
    with pytest.raises(ActionError, match="not created by this request"):
        action.apply(context(name, resource_id="r-intruder"))
    action.destroy(context(name, resource_id="r-owner"), ref(name, "r-owner"))


@pytest.mark.parametrize("name", ["postgres", "template1", "pg_catalog_x", "goldenpath"])
def test_reserved_names_are_refused(name: str) -> None:
    with pytest.raises(ActionError, match="reserved"):
        PostgresDatabase().apply(context(name))


@pytest.mark.parametrize(
    "name",
    ["x'); DROP TABLE t;--", 'a"b', "ab", "Orders", "a" * 64, "with space", "semi;colon", "ünï"],
)
def test_hostile_names_never_reach_sql(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        PostgresDatabaseInputs(name=name)


def test_unreachable_backend_is_reported_clearly() -> None:
    with pytest.raises(BackendUnavailable, match="postgres"):
        PostgresDatabase().apply(context("gpt_never", dsn="postgresql://postgres@127.0.0.1:1/x"))


def test_observe_reports_drift_after_an_out_of_band_change(
    pg_admin: psycopg.Connection[Any], unique_name: Callable[[str], str]
) -> None:
    name = unique_name("drift")
    action = PostgresDatabase()
    action.apply(context(name))
    assert action.observe(context(name), ref(name)).in_sync
    pg_admin.execute(f'GRANT CONNECT ON DATABASE "{name}" TO PUBLIC')
    pg_admin.execute(f'ALTER DATABASE "{name}" CONNECTION LIMIT 3')
    drift = {d.field for d in action.observe(context(name), ref(name)).drift}
    assert drift == {"public_connect", "connection_limit"}
    action.destroy(context(name), ref(name))
    assert not action.observe(context(name), ref(name)).exists


def test_the_generated_password_is_really_checked(embedded_dir: Path) -> None:
    """The machine's server trusts every local login; the embedded one checks passwords."""
    server = start_embedded(embedded_dir / "data", 54391)
    try:
        dsn = f"host={server.socket_dir} port={server.port} user=postgres dbname=postgres"
        action = PostgresDatabase()
        outputs = action.apply(
            context("gpt_pw", dsn=dsn, public_host="127.0.0.1", public_port=54391)
        )
        assert outputs["host"] == "127.0.0.1" and outputs["port"] == 54391
        with psycopg.connect(outputs["dsn"]) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("gpt_pw",)
        wrong = outputs["dsn"].replace(outputs["password"], "not-the-password")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(wrong)
    finally:
        server.stop()
