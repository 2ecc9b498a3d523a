"""The CLI's exit codes, and the one function that picks them.

======  ==============================================================================
 code   meaning
======  ==============================================================================
  0     ok
  1     unexpected error
  2     bad input: HTTP 422 / ``invalid_input(s)``, a bad configuration, bad CLI usage
  3     not found (HTTP 404)
  4     the request failed (final status ``failed`` or ``cancelled``), or a destroy did
  5     denied by a guardrail (HTTP 403 ``policy_denied``, final status ``rejected``, or a
        dry run whose verdict is ``deny``)
  6     conflict (HTTP 409), e.g. the name is taken
  7     the Golden Path API is unreachable
  8     access denied (HTTP 403, any other code)
  9     not signed in: no token, or the token is unknown, expired or revoked (HTTP 401)
 10     the audit log was tampered with (``audit verify``)
 11     the golden path is not set up on this platform (a backend it needs is missing)
 12     the platform is misconfigured: a policy file is broken or dead (``policies lint``)
 13     drift found (``resources check``): the live resource differs from what was made, or is gone
 14     aborted by the user: a confirmation answered 'no' (or not at all); nothing was done
 15     rate limited: too many attempts (HTTP 429); try again after the time it names
 16     ``backends check``: a configured backend did not answer
 130    interrupted (Ctrl-C)
======  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer

from goldenpath.cli.client import ApiUnreachable, CliError
from goldenpath.errors import GoldenPathError

OK = 0
UNEXPECTED = 1
BAD_INPUT = 2
NOT_FOUND = 3
REQUEST_FAILED = 4
POLICY_DENIED = 5
CONFLICT = 6
API_UNREACHABLE = 7
ACCESS_DENIED = 8
NOT_AUTHENTICATED = 9
AUDIT_TAMPERED = 10
NOT_CONFIGURED = 11
POLICY_MISCONFIGURED = 12
DRIFT_FOUND = 13
ABORTED = 14
RATE_LIMITED = 15
BACKEND_UNREACHABLE = 16
INTERRUPTED = 130

EPILOG = (
    "Exit codes: 0 ok; 1 unexpected error; 2 bad input; 3 not found; 4 the request failed; "
    "5 denied by a guardrail; 6 conflict; 7 the API is unreachable; 8 access denied; "
    "9 not signed in; 10 the audit log was tampered with; 11 the golden path is not set up; "
    "12 the platform's policies are misconfigured; 13 drift found; 14 aborted by the user; "
    "15 rate limited; 16 a backend is unreachable; 130 interrupted (Ctrl-C)."
)

_BAD_INPUT_CODES = frozenset(
    {
        "invalid_input",
        "invalid_inputs",
        "invalid_ticket_file",
        "body_too_large",
        "template_invalid",
        "configuration_error",
        "port_in_use",
    }
)
_FAILED_STATUSES = frozenset({"failed", "cancelled", "rollback_failed"})


def exit_code_for(outcome: BaseException | str | None) -> int:
    """The exit code for an error, or for a request's final status (``succeeded``, ...)."""
    if outcome is None:
        return OK
    if isinstance(outcome, str):
        if outcome == "rejected":
            return POLICY_DENIED
        return REQUEST_FAILED if outcome in _FAILED_STATUSES else OK
    if isinstance(outcome, ApiUnreachable):
        return API_UNREACHABLE
    if isinstance(outcome, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(outcome, typer.TyperException):
        # Typer's usage errors (a missing argument, an unknown option) carry exit code 2.
        return BAD_INPUT if outcome.exit_code == BAD_INPUT else UNEXPECTED
    if isinstance(outcome, CliError):
        return _from_http(outcome.status, outcome.code)
    if isinstance(outcome, GoldenPathError):
        return _from_http(_http_status(outcome), outcome.code)
    return UNEXPECTED


def exit_code_for_verdict(verdict: Mapping[str, Any] | None) -> int:
    """A dry run's exit code: denied by a guardrail, or ok (an approval is not a denial)."""
    return POLICY_DENIED if (verdict or {}).get("decision") == "deny" else OK


def _from_http(status: int | None, code: str) -> int:
    if code == "policy_denied":
        return POLICY_DENIED
    if code == "backend_not_configured":
        return NOT_CONFIGURED
    if code == "policy_misconfigured":
        return POLICY_MISCONFIGURED
    if status == 422 or code in _BAD_INPUT_CODES:
        return BAD_INPUT
    by_status = {
        401: NOT_AUTHENTICATED,
        404: NOT_FOUND,
        410: NOT_FOUND,
        403: ACCESS_DENIED,
        409: CONFLICT,
        429: RATE_LIMITED,
    }
    return by_status.get(status or 0, UNEXPECTED)


def _http_status(error: GoldenPathError) -> int:
    # The server's table is the single source of truth; imported late to keep the CLI fast.
    from goldenpath.api.errors import status_for

    return status_for(error)
