"""mysql:database against the machine's real MariaDB (root over TCP, no password)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any, TypeAlias
from urllib.parse import unquote, urlsplit

import pymysql
import pytest

from goldenpath.actions.base import Context, ResourceRef
from goldenpath.actions.mysql.database import MysqlDatabase, MysqlDatabaseInputs
from goldenpath.actions.testing import MemoryJournal
from goldenpath.errors import ActionError, BackendUnavailable, ResourceTaken
from goldenpath.settings import BackendSettings

ADMIN_DSN = os.environ.get("GOLDENPATH_TEST_MYSQL", "mysql://root:@127.0.0.1:3306/")
TEST_PREFIX = "gpt_"

Admin: TypeAlias = "pymysql.connections.Connection[pymysql.cursors.Cursor]"


def context(
    name: str,
    *,
    dsn: str = ADMIN_DSN,
    resource_id: str = "r-1",
    journal: MemoryJournal | None = None,
    **backend: Any,
) -> Context[MysqlDatabaseInputs]:
    return Context(
        inputs=MysqlDatabaseInputs(name=name),
        backends={"mysql": BackendSettings(kind="mysql", dsn=dsn, **backend)},
        owner_team="payments",
        requested_by="alice",
        template_name="mysql-database",
        request_id="req-1",
        step_id="db",
        resource_id=resource_id,
        journal=journal or MemoryJournal(),
    )


def ref(name: str, resource_id: str = "r-1") -> ResourceRef:
    return ResourceRef(
        id=resource_id, type="mysql:database", name=name, backend="mysql", config={}, outputs={}
    )


def connect(dsn: str, **extra: Any) -> Admin:
    parts = urlsplit(dsn)
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=parts.path.strip("/") or None,
        autocommit=True,
        connect_timeout=5,
        **extra,
    )


def rows(conn: Admin, statement: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with conn.cursor() as cursor:
        cursor.execute(statement, args or None)
        return list(cursor.fetchall())


def exists(admin: Admin, name: str) -> tuple[bool, bool]:
    user = rows(admin, "SELECT 1 FROM mysql.user WHERE User = %s AND Host = '%%'", (name,))
    db = rows(admin, "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,))
    return bool(user), bool(db)


@pytest.fixture(scope="session")
def mysql_admin() -> Iterator[Admin]:
    conn = connect(ADMIN_DSN)
    yield conn
    conn.close()


@pytest.fixture
def mysql_name(mysql_admin: Admin) -> Iterator[Callable[[str], str]]:
    """Unique ``gpt_`` names; every user, database and ledger row of them goes at teardown."""
    made: list[str] = []

    def make(stem: str = "db") -> str:
        name = f"{TEST_PREFIX}{stem}_{secrets.token_hex(3)}"
        made.append(name)
        return name

    yield make
    for name in made:
        rows(mysql_admin, f"DROP DATABASE IF EXISTS `{name}`")
        rows(mysql_admin, "DROP USER IF EXISTS %s@'%%'", (name,))
        if rows(mysql_admin, "SHOW TABLES FROM goldenpath_meta LIKE 'owned'"):
            rows(mysql_admin, "DELETE FROM goldenpath_meta.owned WHERE name = %s", (name,))


def test_creates_a_private_database_its_user_can_use_and_destroy_removes_both(
    mysql_admin: Admin, mysql_name: Callable[[str], str]
) -> None:
    name, other = mysql_name("orders"), mysql_name("other")
    rows(mysql_admin, f"CREATE DATABASE `{other}`")
    action = MysqlDatabase()
    outputs = action.apply(context(name))

    assert exists(mysql_admin, name) == (True, True)
    assert outputs["database"] == outputs["user"] == name
    assert (outputs["host"], outputs["port"]) == ("127.0.0.1", 3306)
    assert outputs["dsn"].startswith(f"mysql://{name}:")
    with connect(outputs["dsn"]) as conn:
        rows(conn, "CREATE TABLE t (i INT)")
        rows(conn, "INSERT INTO t VALUES (1)")
        assert rows(conn, "SELECT CURRENT_USER(), DATABASE()") == [(f"{name}@%", name)]
        assert {r[0] for r in rows(conn, "SHOW DATABASES")} == {name, "information_schema"}
        for forbidden in (other, "mysql", "goldenpath_meta"):
            with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
                rows(conn, f"USE `{forbidden}`")
        with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
            rows(conn, "CREATE DATABASE gpt_not_mine")
    grants = rows(mysql_admin, "SHOW GRANTS FOR %s@'%%'", (name,))
    assert [g[0].split(" IDENTIFIED")[0] for g in grants] == [
        f"GRANT USAGE ON *.* TO `{name}`@`%`",
        f"GRANT ALL PRIVILEGES ON `{name.replace('_', chr(92) + '_')}`.* TO `{name}`@`%`",
    ]

    action.destroy(context(name), ref(name))
    assert exists(mysql_admin, name) == (False, False)
    assert rows(mysql_admin, "SELECT 1 FROM goldenpath_meta.owned WHERE name = %s", (name,)) == []
    action.destroy(context(name), ref(name))  # already gone: still fine


def test_underscores_in_the_name_are_not_grant_wildcards(
    mysql_admin: Admin, mysql_name: Callable[[str], str]
) -> None:
    """``GRANT ... ON a_b.*`` would also cover ``axb``; the grant must name one database."""
    name = mysql_name("w")  # gpt_w_<hex>
    lookalike = name[:5] + "x" + name[6:]  # gpt_wx<hex>: matches gpt_w_<hex> with '_' as a wildcard
    mysql_name("unused")  # keeps teardown symmetrical; the lookalike is dropped below
    rows(mysql_admin, f"CREATE DATABASE `{lookalike}`")
    try:
        outputs = MysqlDatabase().apply(context(name))
        with connect(outputs["dsn"]) as conn:
            with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
                rows(conn, f"USE `{lookalike}`")
            assert lookalike not in {r[0] for r in rows(conn, "SHOW DATABASES")}
    finally:
        rows(mysql_admin, f"DROP DATABASE IF EXISTS `{lookalike}`")


def test_a_retried_apply_returns_the_same_credentials(
    mysql_admin: Admin, mysql_name: Callable[[str], str]
) -> None:
    """A crash after CREATE but before the step was recorded: the retry must carry on."""
    name = mysql_name("retry")
    journal = MemoryJournal()
    action = MysqlDatabase()
    first = action.apply(context(name, journal=journal))
    second = action.apply(context(name, journal=journal))
    assert first == second
    with connect(second["dsn"]) as conn:
        assert rows(conn, "SELECT 1") == [(1,)]
    assert action.observe(context(name), ref(name)).in_sync


def test_the_generated_password_is_really_checked(mysql_name: Callable[[str], str]) -> None:
    name = mysql_name("pw")
    outputs = MysqlDatabase().apply(context(name))
    wrong = outputs["dsn"].replace(outputs["password"], "not-the-password")
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        connect(wrong)


def test_refuses_to_adopt_or_drop_a_user_it_did_not_create(
    mysql_admin: Admin, mysql_name: Callable[[str], str]
) -> None:
    name = mysql_name("foreign")
    rows(mysql_admin, "CREATE USER %s@'%%' IDENTIFIED BY 'their-own-pw'", (name,))
    before = rows(
        mysql_admin, "SELECT authentication_string FROM mysql.user WHERE User = %s", (name,)
    )
    action = MysqlDatabase()
    with pytest.raises(ResourceTaken, match=r"user named .* not created by this\s+request"):
        action.apply(context(name))
    with pytest.raises(ActionError, match="not the one this resource created"):
        action.destroy(context(name), ref(name))
    after = rows(
        mysql_admin, "SELECT authentication_string FROM mysql.user WHERE User = %s", (name,)
    )
    assert after == before
    assert exists(mysql_admin, name) == (True, False)  # and no database was made for it


def test_refuses_a_foreign_database_and_leaves_nothing_half_made(
    mysql_admin: Admin, mysql_name: Callable[[str], str]
) -> None:
    name = mysql_name("theirs")
    rows(mysql_admin, f"CREATE DATABASE `{name}`")
    rows(mysql_admin, f"CREATE TABLE `{name}`.keep (i INT)")
    with pytest.raises(ResourceTaken, match="database named"):
        MysqlDatabase().apply(context(name))
    assert exists(mysql_admin, name) == (False, True)
    assert rows(mysql_admin, f"SHOW TABLES FROM `{name}`") == [("keep",)]


def test_another_resource_cannot_take_over_the_same_name(
    mysql_admin: Admin, mysql_name: Callable[[str], str]
) -> None:
    name = mysql_name("taken")
    action = MysqlDatabase()
    owner = action.apply(context(name, resource_id="r-owner"))
    with pytest.raises(ResourceTaken):
        action.apply(context(name, resource_id="r-intruder"))
    with pytest.raises(ActionError, match="not the one this resource created"):
        action.destroy(context(name, resource_id="r-intruder"), ref(name, "r-intruder"))
    with connect(owner["dsn"]) as conn:  # the owner's password was not touched
        assert rows(conn, "SELECT DATABASE()") == [(name,)]
    action.destroy(context(name, resource_id="r-owner"), ref(name, "r-owner"))
    assert exists(mysql_admin, name) == (False, False)


def test_observe_reports_drift_after_out_of_band_changes(
    mysql_admin: Admin, mysql_name: Callable[[str], str]
) -> None:
    name = mysql_name("drift")
    action = MysqlDatabase()
    action.apply(context(name))
    assert action.observe(context(name), ref(name)).in_sync

    rows(mysql_admin, "GRANT SELECT ON *.* TO %s@'%%'", (name,))
    assert {d.field for d in action.observe(context(name), ref(name)).drift} == {"grants"}
    rows(mysql_admin, "REVOKE SELECT ON *.* FROM %s@'%%'", (name,))
    assert action.observe(context(name), ref(name)).in_sync

    rows(mysql_admin, "ALTER USER %s@'%%' IDENTIFIED BY 'changed-by-hand'", (name,))
    drift = action.observe(context(name), ref(name)).drift
    assert [(d.field, d.actual) for d in drift] == [("password", "changed out of band")]

    action.destroy(context(name), ref(name))
    assert not action.observe(context(name), ref(name)).exists


@pytest.mark.parametrize(
    "name",
    [
        "mysql",
        "information_schema",
        "performance_schema",
        "sys",
        "test",
        "test_db",
        "goldenpath_meta",
        "root",
    ],
)
def test_reserved_names_are_refused(name: str) -> None:
    with pytest.raises(ActionError, match="reserved"):
        MysqlDatabase().apply(context(name))


@pytest.mark.parametrize(
    "name",
    [
        "x'); DROP TABLE t;--",
        "a`b`c",
        "`orders`",
        "../orders",
        "orders\0x",
        "o" * 10_000,
        "\uff4f\uff52\uff44\uff45\uff52\uff53",  # "orders" in fullwidth letters
        "ab",
        "Orders",
        "a" * 33,
        "with space",
        "orders-db",
        "orders\n",
    ],
)
def test_hostile_names_never_reach_sql(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        MysqlDatabaseInputs(name=name)


def test_unreachable_backend_is_reported_clearly() -> None:
    with pytest.raises(BackendUnavailable, match=r"'mysql' is unreachable: Can't connect"):
        MysqlDatabase().apply(context("gpt_never", dsn="mysql://root:@127.0.0.1:1/"))


def test_a_wrong_admin_password_is_reported_without_repeating_it() -> None:
    with pytest.raises(BackendUnavailable, match="Access denied") as caught:
        MysqlDatabase().apply(context("gpt_never", dsn="mysql://root:s3cret-admin@127.0.0.1/"))
    assert "s3cret-admin" not in str(caught.value)


@pytest.mark.parametrize("dsn", ["postgresql://root@127.0.0.1/", "mysql://", ""])
def test_a_malformed_dsn_is_a_clear_backend_error(dsn: str) -> None:
    with pytest.raises(BackendUnavailable, match="dsn"):
        MysqlDatabase().apply(context("gpt_never", dsn=dsn))
