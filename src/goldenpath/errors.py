"""The platform's error types.

Every error the platform raises on purpose is a `GoldenPathError`. The class docstring is the
default message; keyword arguments carry the facts and are kept on `details` so the API and the
CLI can show them. One table (`api.errors`) maps them to HTTP statuses, one function
(`cli.exit_codes`) to exit codes.
"""

from __future__ import annotations

from typing import Any


class GoldenPathError(Exception):
    """Something went wrong in Golden Path."""

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.details = details
        template = " ".join((self.__doc__ or "").split())
        text = message or template.format(**details)
        super().__init__(text)

    @property
    def message(self) -> str:
        return str(self)

    @property
    def code(self) -> str:
        """A stable machine-readable name, e.g. ``invalid_input``."""
        name = type(self).__name__
        return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


class ConfigurationError(GoldenPathError):
    """The platform configuration is invalid: {problem}"""


class PortInUse(ConfigurationError):
    """Cannot start: {what} {host}:{port} is already in use ({hint})."""


class InvalidInput(GoldenPathError):
    """Invalid value for '{field}': {rule}"""

    def __init__(
        self, message: str | None = None, *, field: str, rule: str, **details: Any
    ) -> None:
        super().__init__(message, field=field, rule=rule, **details)

    @property
    def field(self) -> str:
        return str(self.details["field"])


class InvalidInputs(GoldenPathError):
    """The request has invalid input: {summary}"""

    def __init__(self, errors: list[InvalidInput]) -> None:
        self.errors = errors
        summary = "; ".join(str(e) for e in errors)
        super().__init__(
            summary=summary,
            errors=[{"field": e.field, "rule": e.details["rule"]} for e in errors],
        )


class TemplateInvalid(GoldenPathError):
    """Template {file} is invalid at {field} (line {line}): {problem}"""


class TemplateRetired(GoldenPathError):
    """Golden path {template} is retired: it takes no new requests ({instead}). What it made
    keeps working and can be upgraded."""


class TemplateNotFound(GoldenPathError):
    """No golden path named '{name}'."""


class ActionNotFound(GoldenPathError):
    """No action with id '{action}'."""


class BackendNotFound(GoldenPathError):
    """No backend named '{backend}' of kind '{kind}' is configured."""


class RequestNotFound(GoldenPathError):
    """No request with id '{request_id}'."""


class ResourceNotFound(GoldenPathError):
    """No resource with id '{resource_id}'."""


class Day2ActionNotFound(GoldenPathError):
    """Resource {resource_id} offers no day-2 action '{action}' (it offers: {offered})."""


class Conflict(GoldenPathError):
    """{problem}"""


class PolicyDenied(GoldenPathError):
    """Denied by guardrail: {summary}"""


class PolicyMisconfigured(GoldenPathError):
    """The platform's guardrails are misconfigured, so no request can be judged; this is not a
    problem with your request. Ask your platform team to fix: {problems}"""


class BackendNotConfigured(GoldenPathError):
    """Golden path '{template}' is not set up on this platform yet: it needs {needs}. Ask your
    platform team (admins: configure it in goldenpath.yaml, see docs/golden-paths.md)."""


class AuditLogBusy(GoldenPathError):
    """The audit log is locked by another session; nothing was changed, try again shortly."""


class RequestBusy(GoldenPathError):
    """Request {request_id} is locked by another session; its job is retried later."""


class ResourceBusy(RequestBusy):
    """Resource {resource_id} is busy with another operation; request {request_id} runs again
    once it is free."""


class LockLost(GoldenPathError):
    """The lock {key} went with its database connection; the job stops and is run again."""


class Cancelled(GoldenPathError):
    """The request was cancelled ({detail})."""


class StepFailed(GoldenPathError):
    """Step '{step}' failed: {problem}"""


class ActionError(GoldenPathError):
    """The action failed: {problem}"""


class ResourceTaken(ActionError):
    """A {kind} named '{name}' already exists on backend '{backend}' and was not created by this
    request."""


class BackendUnavailable(GoldenPathError):
    """Backend '{backend}' is unreachable: {problem}"""


class AuditAnchorCorrupt(GoldenPathError):
    """The audit anchor file {path} has a line that is not an anchor (line {line})."""


class AccessDenied(GoldenPathError):
    """{problem}"""


class RateLimited(GoldenPathError):
    """Too many attempts for {subject}; try again in {retry_after} s."""

    @property
    def retry_after(self) -> int:
        return int(self.details["retry_after"])


class BodyTooLarge(GoldenPathError):
    """The request body is larger than the {limit} bytes this endpoint accepts."""


class NotAuthenticated(GoldenPathError):
    """{problem}"""


class Hidden(GoldenPathError):
    """Not found."""


class UserNotFound(GoldenPathError):
    """No user named '{name}'."""


class TeamNotFound(GoldenPathError):
    """No team named '{name}'."""


class TokenNotFound(GoldenPathError):
    """No token with id '{token_id}'."""


class InvalidTicketFile(GoldenPathError):
    """The ticket export has {count} bad row(s), nothing was imported: {first}"""


class TicketNotFound(GoldenPathError):
    """No ticket {key} from '{source}'."""
