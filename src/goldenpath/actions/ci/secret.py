"""``ci:secret``: one secret in a repository's CI/CD settings (GitHub Actions, GitLab CI, or the
platform's own local repositories' hooks).

The developer hands the platform a value (typed, or made by ``secret:generate``); the platform
writes it where pipelines read it, with its own credentials, so nobody needs admin rights on the
repository. The value goes one way: it is never logged, returned, or kept by the platform.
"""

from __future__ import annotations

from typing import Any

from goldenpath.actions.base import (
    Action,
    Context,
    Observation,
    PlanContext,
    PlannedResource,
    ResourceRef,
)
from goldenpath.actions.ci.github import GitHubSecrets
from goldenpath.actions.ci.gitlab import GitLabVariables
from goldenpath.actions.ci.inputs import CiSecretInputs
from goldenpath.actions.ci.local import ENV_PREFIX, LocalSecrets
from goldenpath.actions.ci.store import SecretStore, SecretTarget
from goldenpath.errors import ConfigurationError
from goldenpath.settings import BackendSettings

BACKEND_KIND = "ci"


class CiSecret(Action[CiSecretInputs]):
    id = "ci:secret"
    backend_kind = "ci"
    description = (
        "Add or replace a secret in a repository's CI/CD settings (GitHub Actions secret or "
        "GitLab CI/CD variable); the value is never shown again."
    )
    Inputs = CiSecretInputs
    # Empty on purpose: the outputs say where the secret went, never what it is.
    secret_outputs = frozenset()
    examples = (
        {
            "repository": "acme/payments",
            "name": "STRIPE_API_KEY",
            "value": "${{ parameters.value }}",
        },
        {
            "repository": "acme/payments",
            "name": "DEPLOY_TOKEN",
            "value": "${{ steps.token.output.value }}",
            "protected": False,
        },
    )

    def plan(self, ctx: PlanContext[CiSecretInputs]) -> list[PlannedResource]:
        inputs = ctx.inputs
        settings = ctx.backend(BACKEND_KIND, inputs.backend)
        target = _target(inputs)
        if settings.is_placeholder:
            provider = None
        else:
            store = secret_store(settings, inputs.backend)
            store.check(target, inputs.value)
            provider = store.provider
        return [
            PlannedResource(
                type=self.id,
                name=target.resource_name,
                backend=inputs.backend,
                config=target.config(provider),
            )
        ]

    def apply(self, ctx: Context[CiSecretInputs]) -> dict[str, Any]:
        inputs = ctx.inputs
        store = secret_store(ctx.backend(BACKEND_KIND, inputs.backend), inputs.backend)
        updated_at = store.put(ctx, _target(inputs), inputs.value)
        return {
            "repository": inputs.repository,
            "name": inputs.name,
            "provider": store.provider,
            "read_as": read_as(store.provider, inputs.name),
            "updated_at": updated_at,
        }

    def destroy(self, ctx: Context[CiSecretInputs], resource: ResourceRef) -> None:
        # The catalog's record, not the inputs, says what to remove: it is what was planned.
        store = secret_store(ctx.backend(BACKEND_KIND, resource.backend), resource.backend)
        store.delete(ctx, SecretTarget.from_config(resource.config))

    def observe(self, ctx: Context[CiSecretInputs], resource: ResourceRef) -> Observation:
        store = secret_store(ctx.backend(BACKEND_KIND, resource.backend), resource.backend)
        return store.observe(ctx, SecretTarget.from_config(resource.config), resource.outputs)


def secret_store(settings: BackendSettings, backend: str) -> SecretStore:
    """The adapter for the provider the backend names (its ``provider`` option)."""
    provider = settings.option("provider")
    if provider == "github":
        return GitHubSecrets(settings, backend)
    if provider == "gitlab":
        return GitLabVariables(settings, backend)
    if provider == "local":
        return LocalSecrets(settings, backend)
    raise ConfigurationError(
        problem=f"backend '{backend}': 'provider' must be github, gitlab or local, not {provider!r}"
    )


def read_as(provider: str, name: str) -> str:
    """How the repository's pipelines (or, locally, its hooks) read the secret."""
    if provider == "github":
        return f"secrets.{name}"
    if provider == "local":
        return f"${ENV_PREFIX}{name} (in the repository's server-side hooks)"
    return f"${name}"


def _target(inputs: CiSecretInputs) -> SecretTarget:
    return SecretTarget(
        repository=inputs.repository,
        name=inputs.name,
        protected=inputs.protected,
        masked=inputs.masked,
    )
