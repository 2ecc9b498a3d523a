"""Browsing templates, and the exit codes of the commonest mistakes."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import Cli, clean_environment


def test_templates_list_json_is_plain_json(cli: Cli) -> None:
    result = cli("templates", "list", "--json")

    templates = result.json()
    postgres = next(t for t in templates if t["name"] == "postgres-database")
    assert postgres["version"] == "1.0.0"
    assert "\x1b[" not in result.stdout


def test_templates_show_lists_parameters_steps_and_outputs(cli: Cli) -> None:
    shown = cli("templates", "show", "postgres-database")

    assert shown.code == 0, shown.stderr
    for expected in ("name", "size", "small, medium", "^[a-z][a-z0-9_]{2,30}$", "yes"):
        assert expected in shown.stdout
    assert "postgres:database" in shown.stdout
    assert "dsn" in shown.stdout


def test_templates_show_json(cli: Cli) -> None:
    detail = cli("templates", "show", "postgres-database", "--json").json()

    assert detail["schema"]["properties"]["size"]["enum"] == ["small", "medium"]
    assert [s["action"] for s in detail["steps"]] == ["postgres:database"]


def test_unknown_template_exits_3(cli: Cli) -> None:
    shown = cli("templates", "show", "no-such-path")
    requested = cli("request", "no-such-path", "-p", "name=whatever")

    assert (shown.code, requested.code) == (3, 3)
    assert "No golden path named 'no-such-path'" in requested.stderr


def test_unreachable_api_exits_7_with_a_friendly_message(cli: Cli) -> None:
    result = cli("templates", "list", "--url", "http://127.0.0.1:1")

    assert result.code == 7
    assert "Golden Path API not reachable at http://127.0.0.1:1" in result.stderr
    assert "is `goldenpath up` running?" in result.stderr
    assert result.stdout == ""


def test_unreachable_api_from_the_environment_exits_7(cli: Cli) -> None:
    result = cli("requests", "list", GOLDENPATH_URL="http://127.0.0.1:1")

    assert result.code == 7


def test_bad_usage_exits_2(cli: Cli) -> None:
    assert cli("request").code == 2
    assert cli("resources", "list", "--no-such-option").code == 2


def test_malformed_id_is_bad_input(cli: Cli) -> None:
    result = cli("requests", "show", "not-a-uuid")

    assert result.code == 2
    assert "request_id: must be a UUID" in result.stderr


def test_missing_request_exits_3(cli: Cli) -> None:
    assert cli("requests", "show", "00000000-0000-0000-0000-000000000000").code == 3


def test_help_documents_the_exit_codes_and_python_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "goldenpath.cli.main", "--help"],
        capture_output=True,
        text=True,
        env=clean_environment(COLUMNS="200"),
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Exit codes: 0 ok; 1 unexpected error; 2 bad input; 3 not found" in result.stdout
    assert "5 denied by a guardrail; 6 conflict; 7 the API is unreachable; 8 access denied" in (
        result.stdout
    )
    assert "13 drift found; 14 aborted by the user" in result.stdout
