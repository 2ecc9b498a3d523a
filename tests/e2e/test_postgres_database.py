"""The developer's path: request a PostgreSQL database, use it, look it up, destroy it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from tests.e2e.conftest import Cli, Provisioned, exists_in_postgres


def _request_id(cli: Cli, name: str) -> str:
    found = [r for r in cli("requests", "list", "--json").json() if r["parameters"]["name"] == name]
    assert len(found) == 1, found
    return str(found[0]["id"])


def _resource(cli: Cli, name: str, *flags: str) -> dict[str, Any]:
    found = [r for r in cli("resources", "list", "--json", *flags).json() if r["name"] == name]
    assert len(found) == 1, found
    return found[0]


def test_wait_shows_progress_outputs_and_a_dsn_that_works(
    provisioned: Provisioned, e2e_admin: psycopg.Connection[Any]
) -> None:
    out = provisioned.result.stdout
    assert "Create database and owner role" in out
    assert f"created database {provisioned.name}" in out
    assert "succeeded" in out
    assert f"database: {provisioned.name}" in out
    with psycopg.connect(provisioned.dsn, connect_timeout=10) as conn:
        conn.execute("create table t(i int)")
        conn.execute("insert into t values (1)")
        assert conn.execute("select count(*) from t").fetchone() == (1,)
    assert exists_in_postgres(e2e_admin, provisioned.name) == {"role": True, "database": True}


def test_requests_show_json(cli: Cli, provisioned: Provisioned) -> None:
    request_id = _request_id(cli, provisioned.name)

    result = cli("requests", "show", request_id, "--json")

    shown = result.json()
    assert shown["status"] == "succeeded"
    assert shown["parameters"] == {"name": provisioned.name, "size": "small"}
    assert [s["status"] for s in shown["steps"]] == ["succeeded"]
    assert shown["outputs"]["values"]["database"] == provisioned.name
    assert sorted(shown["outputs"]["secrets"]) == ["dsn", "password"]
    assert provisioned.dsn not in result.stdout


def test_resources_list_json_shows_it_active(cli: Cli, provisioned: Provisioned) -> None:
    resource = _resource(cli, provisioned.name)

    assert resource["state"] == "active"
    assert resource["kind"] == "postgres:database"
    assert cli("resources", "show", resource["id"], "--json").json()["name"] == provisioned.name


def test_requesting_the_same_name_again_is_a_conflict(cli: Cli, provisioned: Provisioned) -> None:
    requests_before = cli("requests", "list", "--json").json()

    result = cli("request", "postgres-database", "-p", f"name={provisioned.name}", "--wait")

    assert result.code == 6, result.stderr
    assert f"named '{provisioned.name}' already exists" in result.stderr
    assert cli("requests", "list", "--json").json() == requests_before


def test_wait_json_then_destroy_drops_role_and_database(
    cli: Cli, new_name: Callable[[], str], e2e_admin: psycopg.Connection[Any]
) -> None:
    name = new_name()
    created = cli("request", "postgres-database", "-p", f"name={name}", "--wait", "--json").json()
    assert created["status"] == "succeeded"
    assert created["secrets"]["dsn"].startswith(f"postgresql://{name}:")
    assert exists_in_postgres(e2e_admin, name) == {"role": True, "database": True}
    resource_id = _resource(cli, name)["id"]

    # Answered no, or not at all (end of input): aborted by the user, exit 14, nothing done.
    declined = cli("resources", "destroy", resource_id, stdin="n\n")
    assert declined.code == 14, declined.stdout + declined.stderr
    assert "Not confirmed; nothing was destroyed." in declined.stderr
    unanswered = cli("resources", "destroy", resource_id, stdin="")
    assert unanswered.code == 14, unanswered.stdout + unanswered.stderr
    assert "Aborted; nothing was done." in unanswered.stderr
    assert _resource(cli, name)["state"] == "active"

    destroyed = cli("resources", "destroy", resource_id, "--yes", "--wait")

    assert destroyed.code == 0, destroyed.stderr
    assert f"Destroyed postgres:database '{name}'" in destroyed.stdout
    assert exists_in_postgres(e2e_admin, name) == {"role": False, "database": False}
    assert all(r["name"] != name for r in cli("resources", "list", "--json").json())
    assert _resource(cli, name, "--all")["state"] == "destroyed"
    again = cli("resources", "destroy", resource_id, "--yes")
    assert again.code == 6


def test_reveal_without_wait(cli: Cli, new_name: Callable[[], str]) -> None:
    name = new_name()
    submitted = cli("request", "postgres-database", "-p", f"name={name}", "--json").json()
    assert submitted["status"] in ("queued", "running", "succeeded")

    watched = cli("requests", "show", submitted["id"], "--json")
    assert watched.code == 0
    revealed = _wait_and_reveal(cli, submitted["id"])

    assert revealed["dsn"].startswith(f"postgresql://{name}:")
    destroyed = cli("resources", "destroy", _resource(cli, name)["id"], "--yes", "--wait")
    assert destroyed.code == 0, destroyed.stderr


def _wait_and_reveal(cli: Cli, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while cli("requests", "show", request_id, "--json").json()["status"] != "succeeded":
        assert time.monotonic() < deadline, "request did not succeed in 60 s"
        time.sleep(0.3)
    revealed: dict[str, Any] = cli("secrets", "reveal", request_id, "--json").json()
    return revealed


def test_a_failed_request_exits_4_and_shows_the_step_error(
    cli: Cli, new_name: Callable[[], str], e2e_admin: psycopg.Connection[Any]
) -> None:
    name = new_name()
    # Someone else's role of that name: the action must refuse to take it over.
    e2e_admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(name)))

    result = cli("request", "postgres-database", "-p", f"name={name}", "--wait")

    assert result.code == 4, f"{result.stdout}\n{result.stderr}"
    assert "failed" in result.stderr
    assert f"a role named '{name}' already exists" in result.stderr.lower()
    assert "step db (" in result.stderr
    assert exists_in_postgres(e2e_admin, name) == {"role": True, "database": False}
    as_json = cli("requests", "show", _request_id(cli, name), "--json").json()
    assert as_json["status"] == "failed"
    assert all(r["name"] != name or r["state"] != "active" for r in _all_resources(cli))


def _all_resources(cli: Cli) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = cli("resources", "list", "--all", "--json").json()
    return found


def test_check_exits_13_when_the_database_drifted_or_is_gone(
    cli: Cli, new_name: Callable[[], str], e2e_admin: psycopg.Connection[Any]
) -> None:
    name = new_name()
    created = cli("request", "postgres-database", "-p", f"name={name}", "--wait", "--json")
    assert created.json()["status"] == "succeeded"
    resource_id = _resource(cli, name)["id"]

    in_sync = cli("resources", "check", resource_id)
    assert in_sync.code == 0, in_sync.stdout + in_sync.stderr
    assert "In sync" in in_sync.stdout

    e2e_admin.execute(sql.SQL("ALTER DATABASE {} CONNECTION LIMIT 7").format(sql.Identifier(name)))
    drifted = cli("resources", "check", resource_id)
    assert drifted.code == 13, drifted.stdout + drifted.stderr
    assert "Drifted:" in drifted.stdout and "connection_limit" in drifted.stdout

    e2e_admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    e2e_admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
    gone = cli("resources", "check", resource_id, "--json")
    assert gone.code == 13, gone.stdout + gone.stderr
    assert json.loads(gone.stdout)["exists"] is False
