"""GitLab CI/CD project variables, through GitLab's REST API (v4).

A GitLab variable has a ``description``: it carries our marker, so a retry knows its own
variable (and re-asserts value and flags with a PUT), a variable someone else made is refused
(`ResourceTaken`) and left alone, and `destroy` deletes only a variable that still carries it.
Only the default environment scope (``*``) is ever read or written.

GitLab masks a variable in job logs only if the value meets its masking rule; the value is
checked here, before anything is sent, so the refusal names the rule rather than GitLab's
``{"value": ["is invalid"]}``. Variables are sent with ``raw: true`` so that a ``$`` in a secret
is never expanded by the runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

from goldenpath.actions.base import Context, Drift, Observation
from goldenpath.actions.ci.api import CiApi, base_url, token
from goldenpath.actions.ci.inputs import gitlab_masking_problem
from goldenpath.actions.ci.store import SecretTarget
from goldenpath.errors import ActionError, InvalidInput, ResourceTaken
from goldenpath.settings import BackendSettings

DEFAULT_API_URL = "https://gitlab.com/api/v4"
SCOPE = {"filter[environment_scope]": "*"}
# The planner stands this text in for step outputs that only exist after apply.
_PENDING = "(known after apply: "


class GitLabVariables:
    """`SecretStore` for GitLab CI/CD project variables."""

    provider = "gitlab"

    def __init__(self, settings: BackendSettings, backend: str) -> None:
        self._settings = settings
        self._backend = backend
        self._url = base_url(settings, backend, DEFAULT_API_URL)

    def check(self, target: SecretTarget, value: SecretStr) -> None:
        if not target.masked or value.get_secret_value().startswith(_PENDING):
            return
        problem = gitlab_masking_problem(value)
        if problem:
            raise InvalidInput(
                field="value", rule=f"{problem}; set 'masked: false' to store it unmasked"
            )

    def put(self, ctx: Context[Any], target: SecretTarget, value: SecretStr) -> str:
        self.check(target, value)
        body = {
            "value": value.get_secret_value(),
            "masked": target.masked,
            "protected": target.protected,
            "raw": True,
            "variable_type": "env_var",
            "environment_scope": "*",
            "description": ctx.marker,
        }
        with self._api(target, value) as api:
            live = api.call("GET", _variable(target), params=SCOPE, absent_ok=True)
            if live is None:
                api.call("POST", f"{_project(target)}/variables", json={"key": target.name, **body})
                ctx.log(f"created GitLab CI/CD variable {target.name} in {target.repository}")
            elif _description(live) == ctx.marker:
                api.call("PUT", _variable(target), params=SCOPE, json=body)
                ctx.log(
                    f"GitLab CI/CD variable {target.name} in {target.repository} exists from an "
                    "earlier attempt; set its value and flags again"
                )
            else:
                raise ResourceTaken(
                    kind="GitLab CI/CD variable",
                    name=f"{target.repository}/{target.name}",
                    backend=self._backend,
                )
        # GitLab keeps no timestamp on a variable: the time we wrote it is the best record.
        return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def delete(self, ctx: Context[Any], target: SecretTarget) -> None:
        with self._api(target) as api:
            live = api.call("GET", _variable(target), params=SCOPE, absent_ok=True)
            if live is None:
                ctx.log(f"variable {target.name} is already gone from {target.repository}")
                return
            if _description(live) != ctx.marker:
                raise ActionError(
                    problem=f"GitLab CI/CD variable {target.name} in {target.repository} no "
                    "longer carries this resource's marker; not deleting it"
                )
            api.call("DELETE", _variable(target), params=SCOPE, absent_ok=True)
        ctx.log(f"deleted GitLab CI/CD variable {target.name} from {target.repository}")

    def observe(
        self, ctx: Context[Any], target: SecretTarget, outputs: Mapping[str, Any]
    ) -> Observation:
        with self._api(target) as api:
            live = api.call("GET", _variable(target), params=SCOPE, absent_ok=True)
        if not isinstance(live, Mapping):
            return Observation(exists=False)
        # The value is not compared: the platform keeps no copy of it (nor a hash, which would
        # let anyone who reads the catalog test guesses of a weak secret offline).
        expected = {
            "description": ctx.marker,
            "masked": target.masked,
            "protected": target.protected,
        }
        drift = tuple(
            Drift(field, want, live.get(field))
            for field, want in expected.items()
            if live.get(field) != want
        )
        return Observation(exists=True, drift=drift)

    def _api(self, target: SecretTarget, value: SecretStr | None = None) -> CiApi:
        return CiApi(
            backend=self._backend,
            provider=self.provider,
            repository=target.repository,
            url=self._url,
            headers={"PRIVATE-TOKEN": token(self._settings, self._backend)},
            hidden=[value.get_secret_value()] if value else [],
            repository_missing=_project_missing,
        )


def _project(target: SecretTarget) -> str:
    # GitLab addresses a project by its URL-encoded path: 'group/app' is 'group%2Fapp'.
    return f"/projects/{quote(target.repository, safe='')}"


def _variable(target: SecretTarget) -> str:
    return f"{_project(target)}/variables/{target.name}"


def _description(live: Any) -> str | None:
    return live.get("description") if isinstance(live, Mapping) else None


def _project_missing(body: Any) -> bool:
    """GitLab says which is missing: ``404 Project Not Found`` or ``404 Variable Not Found``."""
    message = body.get("message") if isinstance(body, Mapping) else body
    return "project" in str(message).lower()
