"""Bad input is refused with exit code 2, a message naming the field and the rule, and nothing
made; a dry run prints the plan and makes nothing either."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.e2e.conftest import Cli, exists_in_postgres

NAME_RULE = "must be 3-31 lower-case letters, digits or _, starting with a letter"
INJECTION = "x'); DROP TABLE t;--"


@dataclass(frozen=True)
class Snapshot:
    requests: list[Any]
    resources: list[Any]


@pytest.fixture
def nothing_created(cli: Cli, e2e_admin: psycopg.Connection[Any]) -> Iterator[Callable[..., None]]:
    """Call with the names a test tried; checks no request, resource, role or database appeared."""
    before = Snapshot(_all_requests(cli), _all_resources(cli))
    tried: list[str] = []

    def check(*names: str) -> None:
        tried.extend(names)

    yield check
    assert Snapshot(_all_requests(cli), _all_resources(cli)) == before
    for name in tried:
        assert exists_in_postgres(e2e_admin, name) == {"role": False, "database": False}


def _all_requests(cli: Cli) -> list[Any]:
    found: list[Any] = cli("requests", "list", "--json").json()
    return found


def _all_resources(cli: Cli) -> list[Any]:
    found: list[Any] = cli("resources", "list", "--all", "--json").json()
    return found


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param([f"name={INJECTION}"], f"name: {NAME_RULE}", id="sql-injection"),
        pytest.param(["name=" + "a" * 40], f"name: {NAME_RULE}", id="40-characters"),
        pytest.param(["name=Orders"], f"name: {NAME_RULE}", id="upper-case"),
        pytest.param(["name={unique}", "bogus=1"], "bogus: is not a parameter", id="unknown"),
        pytest.param([], "name: is required", id="missing-name"),
        pytest.param(["name={unique}", "size=huge"], "size: must be one of: small", id="enum"),
        pytest.param(["name={unique}", "size:=3"], "size: must be of type string", id="json-type"),
        pytest.param(["name={unique}", "size:=[1"], "size: ':=' needs a JSON value", id="bad-json"),
        pytest.param(["name"], "-p name: must be key=value, or key:=JSON", id="no-equals"),
    ],
)
def test_bad_input_exits_2_names_the_field_and_creates_nothing(
    cli: Cli,
    new_name: Callable[[], str],
    nothing_created: Callable[..., None],
    params: list[str],
    expected: str,
) -> None:
    unique = new_name()
    args = [arg for p in params for arg in ("-p", p.format(unique=unique))]
    nothing_created(unique, "x", "a" * 40)

    result = cli("request", "postgres-database", *args, "--wait")

    assert result.code == 2, f"{result.stdout}\n{result.stderr}"
    assert expected in result.stderr
    assert result.stdout == ""


def test_every_problem_is_reported_at_once(cli: Cli, nothing_created: Callable[..., None]) -> None:
    result = cli("request", "postgres-database", "-p", "name=X", "-p", "bogus=1", "-p", "size=xl")

    assert result.code == 2
    for expected in (f"name: {NAME_RULE}", "bogus: is not a parameter", "size: must be one of"):
        assert expected in result.stderr


def test_bad_team_is_bad_input(
    cli: Cli, new_name: Callable[[], str], nothing_created: Callable[..., None]
) -> None:
    name = new_name()
    nothing_created(name)

    result = cli("request", "postgres-database", "-p", f"name={name}", "--team", "Not A Team")

    assert result.code == 2
    assert "team: must match the pattern" in result.stderr


def test_dry_run_prints_the_plan_and_creates_nothing(
    cli: Cli, new_name: Callable[[], str], nothing_created: Callable[..., None]
) -> None:
    name = new_name()
    nothing_created(name)

    result = cli("request", "postgres-database", "-p", f"name={name}", "--dry-run")

    assert result.code == 0, result.stderr
    for expected in ("nothing was created", "postgres:database", name, "connection_limit"):
        assert expected in result.stdout


def test_dry_run_json_parses_json_values(
    cli: Cli, new_name: Callable[[], str], nothing_created: Callable[..., None], tmp_path: Any
) -> None:
    name = new_name()
    nothing_created(name)
    params_file = tmp_path / "params.yaml"
    params_file.write_text(f"name: {name}\nsize: small\n")

    result = cli(
        "request",
        "postgres-database",
        "--params-file",
        str(params_file),
        "-p",
        'size:="medium"',
        "--dry-run",
        "--json",
    )

    # A medium database on the platform's own server is denied: the plan is printed, exit 5.
    assert result.code == 5, result.stdout + result.stderr
    plan = json.loads(result.stdout)
    assert plan["dry_run"] is True
    assert plan["parameters"] == {"name": name, "size": "medium"}
    [resource] = plan["plan"]["resources"]
    assert (resource["type"], resource["name"]) == ("postgres:database", name)
    assert resource["config"] == {"connection_limit": 50}
    assert plan["verdict"]["decision"] == "deny"
    assert [v["policy"] for v in plan["verdict"]["violations"]] == ["database_sizes.rego"]


def test_a_denied_dry_run_exits_5_and_shows_the_verdict(
    cli: Cli, new_name: Callable[[], str], nothing_created: Callable[..., None]
) -> None:
    name = new_name()
    result = cli(
        "request", "postgres-database", "-p", f"name={name}", "-p", "size=medium", "--dry-run"
    )
    assert result.code == 5, result.stdout + result.stderr
    assert "Guardrails: deny" in result.stdout and "database_sizes.rego" in result.stdout
    nothing_created(name)
