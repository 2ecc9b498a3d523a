"""Secrets of the platform's own repositories (the ``local`` git backend), for their hooks.

A ``ci`` backend with ``provider: local`` needs no CI service::

    backends:
      ci: {kind: ci, provider: local}   # git_backend: git (the local git backend it serves)

Its repositories are named ``local/<name>``, ``<name>`` being a local repository (what
``new-repo`` made). Each secret is sealed with the platform's key and kept in the platform's
database (the action's state store, like Terraform state): never in the repository folder, and
rotated with the other secrets by ``goldenpath db reseal-secrets``. When a push runs the
repository's server-side hooks, the platform's git server hands them the repository's secrets
as environment variables ``GOLDENPATH_SECRET_<NAME>``: prefixed, so that no secret can replace a
variable git itself reads (PATH, GIT_DIR, LD_PRELOAD).

Each stored secret carries the marker of the repository it was written for, so a repository
made later under the same name (after the first was destroyed) never receives them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from goldenpath.actions.base import Context, Drift, Observation, PlanContext
from goldenpath.actions.ci.store import SecretTarget
from goldenpath.actions.git.local import LocalHost, repository_marker
from goldenpath.actions.state_store import StateStore
from goldenpath.errors import ActionError, ConfigurationError, InvalidInput, ResourceTaken
from goldenpath.settings import BackendSettings

OWNER = "local"
ENV_PREFIX = "GOLDENPATH_SECRET_"
# Terraform workspaces (the state store's other keys) never contain ':'.
KEY_PREFIX = "ci:"
_REPOSITORY = re.compile(rf"{OWNER}/([a-z][a-z0-9-]{{1,62}})")


class LocalSecrets:
    """`SecretStore` for the platform's local repositories."""

    provider = "local"

    def __init__(self, settings: BackendSettings, backend: str) -> None:
        self._backend = backend
        self._git_backend = str(settings.option("git_backend", "git"))

    def check(self, target: SecretTarget, value: SecretStr) -> None:
        repository_name(target.repository)

    def put(self, ctx: Context[Any], target: SecretTarget, value: SecretStr) -> str:
        name = repository_name(target.repository)
        repo = self._repository(ctx, name)
        marker = repository_marker(repo)
        if not repo.is_dir() or marker is None:
            raise ActionError(
                problem=f"repository '{target.repository}' not found among the platform's local "
                "repositories (make it with new-repo first)"
            )
        store = _store(ctx)
        key = secret_key(name, target.name)
        updated_at = _now()
        document = json.dumps(
            {
                "name": target.name,
                "value": value.get_secret_value(),
                "owner": ctx.marker,
                "repository_marker": marker,
                "updated_at": updated_at,
            }
        ).encode()
        if not store.write(key, document, only_if_absent=True):
            if _owner(store.read(key)) != ctx.marker:
                raise ResourceTaken(
                    kind="CI secret",
                    name=target.repository + "/" + target.name,
                    backend=self._backend,
                )
            store.write(key, document)
            ctx.log(f"secret {target.name} of {target.repository} exists from an earlier attempt")
        ctx.log(
            f"stored secret {target.name} for {target.repository}, sealed with the platform's "
            f"key; its hooks read it as ${ENV_PREFIX}{target.name}"
        )
        return updated_at

    def delete(self, ctx: Context[Any], target: SecretTarget) -> None:
        store = _store(ctx)
        key = secret_key(repository_name(target.repository), target.name)
        found = store.read(key)
        if found is None:
            ctx.log(f"secret {target.name} is already gone from {target.repository}")
            return
        if _owner(found) != ctx.marker:
            raise ActionError(
                problem=f"secret {target.name} of {target.repository} is not the one this "
                "resource stored; not deleting it"
            )
        store.delete(key)
        ctx.log(f"deleted secret {target.name} of {target.repository}")

    def observe(
        self, ctx: Context[Any], target: SecretTarget, outputs: Mapping[str, Any]
    ) -> Observation:
        found = _store(ctx).read(secret_key(repository_name(target.repository), target.name))
        if found is None:
            return Observation(exists=False)
        owner = _owner(found)
        if owner != ctx.marker:
            return Observation(exists=True, drift=(Drift("owner", ctx.marker, owner),))
        return Observation(exists=True)

    def _repository(self, ctx: PlanContext[Any], name: str) -> Path:
        git = ctx.backend("git", self._git_backend)
        if git.option("provider", "local") != "local":
            raise ConfigurationError(
                problem=f"backend '{self._backend}': git_backend '{self._git_backend}' must be "
                "a local git backend"
            )
        return LocalHost(git, self._git_backend, ctx.data_dir).path(name)


def repository_name(repository: str) -> str:
    """The local repository's name in ``local/<name>``; refuses any other form."""
    found = _REPOSITORY.fullmatch(repository)
    if found is None:
        raise InvalidInput(
            field="repository",
            rule=f"the platform's own repositories are named {OWNER}/<name>, e.g. {OWNER}/web",
        )
    return found.group(1)


def secret_key(repository: str, name: str) -> str:
    """The state store's key of one secret (hashed: keys hold at most 63 characters)."""
    return repository_prefix(repository) + _digest(name)


def repository_prefix(repository: str) -> str:
    return f"{KEY_PREFIX}{_digest(repository)}:"


def hook_environment(stored: Iterable[bytes], marker: str | None) -> dict[str, str]:
    """The environment variables a push's hooks get: the secrets written for this repository
    (its current marker), as ``GOLDENPATH_SECRET_<NAME>``."""
    env: dict[str, str] = {}
    if marker is None:
        return env
    for blob in stored:
        document = json.loads(blob)
        if document.get("repository_marker") == marker:
            env[ENV_PREFIX + str(document["name"])] = str(document["value"])
    return env


def _store(ctx: PlanContext[Any]) -> StateStore:
    if ctx.state_store is None:
        raise ActionError(problem="the local CI secret store needs the platform's state store")
    return ctx.state_store


def _owner(blob: bytes | None) -> str | None:
    if blob is None:
        return None
    owner = json.loads(blob).get("owner")
    return str(owner) if owner else None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
