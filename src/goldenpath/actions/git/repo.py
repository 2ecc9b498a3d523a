"""``git:repo``: a repository made from the template's skeleton, with a protected ``main``.

The action validates the inputs, renders the skeleton (before anything is created, so a bad
skeleton leaves nothing half-made) and hands a `RepoSpec` to the provider named by the backend's
``provider`` option: ``local`` (the default), ``github`` or ``gitea``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from goldenpath.actions.base import (
    Action,
    ActionInputs,
    Context,
    Observation,
    PlanContext,
    PlannedResource,
    ResourceRef,
)
from goldenpath.actions.git.gitea import GiteaHost
from goldenpath.actions.git.github import GitHubHost
from goldenpath.actions.git.local import LocalHost
from goldenpath.actions.git.skeleton import (
    SkeletonFile,
    check_skeleton_path,
    render_skeleton,
    skeleton_folder,
)
from goldenpath.actions.git.spec import DEFAULT_BRANCH, REPO_NAME, RepoHost, RepoSpec
from goldenpath.errors import ConfigurationError
from goldenpath.settings import BackendSettings

BACKEND_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
VALUE_KEY = re.compile(r"[a-z_][a-z0-9_]{0,31}")
MAX_VALUES = 50
MAX_VALUE_LENGTH = 1000
PROVIDERS = ("local", "github", "gitea")


class GitRepoInputs(ActionInputs):
    name: str = Field(
        pattern=REPO_NAME,
        description="Repository name: lower-case letters, digits and '-', 2 to 63 long.",
    )
    description: str = Field(default="", max_length=200)
    skeleton: str = Field(
        default="skeleton", description="Folder inside the template's folder to render."
    )
    values: dict[str, str] = Field(
        default_factory=dict, description="Extra values the skeleton files may use."
    )
    private: bool = True
    backend: str = Field(default="git", pattern=BACKEND_NAME)

    @field_validator("description")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(_is_control(c) for c in value):
            raise ValueError("must not contain control characters or line breaks")
        return value

    @field_validator("skeleton")
    @classmethod
    def _inside_template(cls, value: str) -> str:
        return check_skeleton_path(value)

    @field_validator("values")
    @classmethod
    def _plain_values(cls, values: dict[str, str]) -> dict[str, str]:
        if len(values) > MAX_VALUES:
            raise ValueError(f"at most {MAX_VALUES} values")
        for key, value in values.items():
            if not VALUE_KEY.fullmatch(key):
                raise ValueError(f"key '{key[:40]}' must match [a-z_][a-z0-9_]{{0,31}}")
            if len(value) > MAX_VALUE_LENGTH:
                raise ValueError(f"value of '{key}' is longer than {MAX_VALUE_LENGTH} characters")
        return values


class GitRepo(Action[GitRepoInputs]):
    id = "git:repo"
    backend_kind = "git"
    description = (
        "A git repository from the template's skeleton, owned by the team, with main protected "
        "against force-pushes and deletion."
    )
    Inputs = GitRepoInputs
    examples = (
        {"name": "orders-service", "description": "Order intake API", "private": True},
        {"name": "billing-ui", "values": {"language": "typescript"}},
    )

    def plan(self, ctx: PlanContext[GitRepoInputs]) -> list[PlannedResource]:
        ctx.backend("git", ctx.inputs.backend)
        files = _files(ctx)  # a skeleton that does not render is refused at plan time
        return [
            PlannedResource(
                type=self.id,
                name=ctx.inputs.name,
                backend=ctx.inputs.backend,
                config={
                    "private": ctx.inputs.private,
                    "default_branch": DEFAULT_BRANCH,
                    "protected_branches": [DEFAULT_BRANCH],
                    "files": [f.path for f in files],
                },
                tags={"owner": ctx.owner_team},
            )
        ]

    def apply(self, ctx: Context[GitRepoInputs]) -> dict[str, Any]:
        inputs = ctx.inputs
        host = _host(ctx, inputs.backend)
        files = _files(ctx)
        spec = RepoSpec(
            name=inputs.name,
            description=inputs.description,
            private=inputs.private,
            marker=ctx.marker,
            files=files,
            retried=_retried(ctx),
        )
        return host.create(spec, ctx.log).as_dict()

    def destroy(self, ctx: Context[GitRepoInputs], resource: ResourceRef) -> None:
        _host(ctx, resource.backend).destroy(resource.name, ctx.marker, ctx.log)

    def observe(self, ctx: Context[GitRepoInputs], resource: ResourceRef) -> Observation:
        private = bool(resource.config.get("private", True))
        return _host(ctx, resource.backend).observe(resource.name, ctx.marker, private)


def repo_host(
    backend: BackendSettings, backend_name: str, data_dir: Path | None = None
) -> RepoHost:
    """The provider the backend's ``provider`` option names."""
    provider = backend.option("provider", "local")
    if provider == "local":
        return LocalHost(backend, backend_name, data_dir)
    if provider == "github":
        return GitHubHost(backend, backend_name)
    if provider == "gitea":
        return GiteaHost(backend, backend_name)
    raise ConfigurationError(
        problem=f"git backend '{backend_name}' has provider '{provider}'; "
        f"expected one of {', '.join(PROVIDERS)}"
    )


def _host(ctx: Context[GitRepoInputs], backend_name: str) -> RepoHost:
    return repo_host(ctx.backend("git", backend_name), backend_name, ctx.data_dir)


def _files(ctx: PlanContext[GitRepoInputs]) -> tuple[SkeletonFile, ...]:
    inputs = ctx.inputs
    folder = skeleton_folder(ctx.template_dir, inputs.skeleton)
    return render_skeleton(
        folder,
        {
            "name": inputs.name,
            "description": inputs.description,
            "owner_team": ctx.owner_team,
            "values": dict(inputs.values),
        },
    )


def _retried(ctx: Context[GitRepoInputs]) -> bool:
    """Whether an earlier attempt of this step already reached the point of creating the repo.

    The checkpoint is stored before the provider creates anything; finding it already stored
    means a previous run may have created the repository and died before marking it.
    """
    fresh = False

    def first_attempt() -> str:
        nonlocal fresh
        fresh = True
        return "creating"

    ctx.checkpoint(f"git:repo:{ctx.inputs.name}", first_attempt)
    return not fresh


def _is_control(char: str) -> bool:
    # Cc: C0/C1 controls incl. newline and tab; Zl/Zp: Unicode line and paragraph separators.
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")
