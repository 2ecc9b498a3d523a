"""The exit codes of the README's table, picked by one function each: for an error, a request's
final status, and a dry run's verdict."""

from __future__ import annotations

from typing import Any

import pytest

from goldenpath.cli.client import ApiUnreachable, CliError
from goldenpath.cli.exit_codes import (
    ABORTED,
    DRIFT_FOUND,
    EPILOG,
    exit_code_for,
    exit_code_for_verdict,
)


@pytest.mark.parametrize(
    ("verdict", "code"),
    [
        ({"decision": "allow"}, 0),
        ({"decision": "require_approval"}, 0),  # it waits for an approver: not a denial
        ({"decision": "deny", "violations": [{"policy": "database_sizes.rego"}]}, 5),
        (None, 0),
    ],
)
def test_a_dry_run_exits_5_only_when_denied(verdict: dict[str, Any] | None, code: int) -> None:
    assert exit_code_for_verdict(verdict) == code


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        ("succeeded", 0),
        ("failed", 4),
        ("cancelled", 4),
        ("rejected", 5),
        (CliError("denied", status=403, code="policy_denied"), 5),
        (CliError("no such", status=404, code="not_found"), 3),
        (CliError("not yours", status=403, code="access_denied"), 8),
        (CliError("sign in", status=401, code="not_authenticated"), 9),
        (CliError("not set up", status=501, code="backend_not_configured"), 11),
        (CliError("broken policy", status=503, code="policy_misconfigured"), 12),
        (CliError("slow down", status=429, code="rate_limited"), 15),
        (ApiUnreachable("http://127.0.0.1:8000", "connection refused"), 7),
        (KeyboardInterrupt(), 130),
    ],
)
def test_outcomes_map_to_the_documented_codes(outcome: BaseException | str, code: int) -> None:
    assert exit_code_for(outcome) == code


def test_drift_and_an_abort_have_codes_of_their_own_and_the_help_names_them() -> None:
    assert (DRIFT_FOUND, ABORTED) == (13, 14)
    assert "13 drift found; 14 aborted by the user" in EPILOG
