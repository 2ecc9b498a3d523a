"""``publish:github`` and ``publish:gitea``: the workspace pushed as a new repository, through
our ``git:repo`` providers.

``repoUrl`` is Backstage's ``host?owner=…&repo=…``. The repository is made by the configured git
backend of that provider whose ``org`` is the owner, so a template can publish only where the
platform holds credentials — never to an owner of the developer's choosing.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field

from goldenpath.actions.backstage import workspace
from goldenpath.actions.base import (
    Action,
    ActionInputs,
    Context,
    Observation,
    PlanContext,
    PlannedResource,
    ResourceRef,
)
from goldenpath.actions.git.repo import repo_host
from goldenpath.actions.git.spec import DEFAULT_BRANCH, REPO_NAME, RepoSpec
from goldenpath.errors import ActionError, InvalidInput
from goldenpath.settings import BackendSettings
from goldenpath.templates.backstage.filters import parse_repo_url


class PublishInputs(ActionInputs):
    repoUrl: str = Field(description="host?owner=ORG&repo=NAME")
    description: str = Field(default="", max_length=200)
    repoVisibility: Literal["private", "internal", "public"] = "private"
    defaultBranch: Literal["main"] = "main"
    sourcePath: str = Field(default=".")
    # Added by the Backstage loader: the workspace operations of the steps before this one.
    workspace: list[Any] = Field(default_factory=list)


class Publish(Action[PublishInputs]):
    provider: ClassVar[str]
    backend_kind = "git"
    Inputs = PublishInputs
    examples = ({"repoUrl": "github.com?owner=acme&repo=orders", "description": "Orders"},)

    def plan(self, ctx: PlanContext[PublishInputs]) -> list[PlannedResource]:
        backend_name, _ = self._backend(ctx)
        files = [] if workspace.is_pending(ctx.inputs.workspace) else sorted(_files(ctx))
        return [
            PlannedResource(
                type="git:repo",
                name=_repo(ctx.inputs.repoUrl),
                backend=backend_name,
                config={
                    "private": ctx.inputs.repoVisibility != "public",
                    "default_branch": DEFAULT_BRANCH,
                    "protected_branches": [DEFAULT_BRANCH],
                    "files": files,
                },
                tags={"owner": ctx.owner_team},
            )
        ]

    def apply(self, ctx: Context[PublishInputs]) -> dict[str, Any]:
        backend_name, backend = self._backend(ctx)
        files = _files(ctx)
        if not files:
            raise ActionError(problem=f"{self.id}: the workspace has no files to publish")
        spec = RepoSpec(
            name=_repo(ctx.inputs.repoUrl),
            description=ctx.inputs.description,
            private=ctx.inputs.repoVisibility != "public",
            marker=ctx.marker,
            files=tuple(files[p] for p in sorted(files)),
            retried=_retried(ctx),
        )
        made = repo_host(backend, backend_name, ctx.data_dir).create(spec, ctx.log)
        return {
            "remoteUrl": made.clone_url,
            "repoContentsUrl": f"{made.web_url.removesuffix('.git')}/blob/{made.default_branch}",
            **made.as_dict(),
        }

    def destroy(self, ctx: Context[PublishInputs], resource: ResourceRef) -> None:
        backend = ctx.backend("git", resource.backend)
        repo_host(backend, resource.backend, ctx.data_dir).destroy(
            resource.name, ctx.marker, ctx.log
        )

    def observe(self, ctx: Context[PublishInputs], resource: ResourceRef) -> Observation:
        backend = ctx.backend("git", resource.backend)
        private = bool(resource.config.get("private", True))
        return repo_host(backend, resource.backend, ctx.data_dir).observe(
            resource.name, ctx.marker, private
        )

    def _backend(self, ctx: PlanContext[PublishInputs]) -> tuple[str, BackendSettings]:
        owner = _owner(ctx.inputs.repoUrl)
        for name, backend in sorted(ctx.backends.items()):
            if (
                backend.kind == "git"
                and backend.option("provider", "local") == self.provider
                and backend.option("org") == owner
            ):
                return name, backend
        wildcard = ctx.backends.get(self.provider)
        if wildcard is not None and wildcard.kind == "*":  # `templates verify`: any backend
            return self.provider, wildcard
        raise InvalidInput(
            field="repoUrl",
            rule=f"no git backend with provider '{self.provider}' and org '{owner}' is "
            "configured; publish only to an organisation the platform holds",
        )


class PublishGitHub(Publish):
    id = "publish:github"
    provider = "github"
    description = "Publish the workspace as a new GitHub repository (git:repo's github provider)."


class PublishGitea(Publish):
    id = "publish:gitea"
    provider = "gitea"
    description = "Publish the workspace as a new Gitea repository (git:repo's gitea provider)."


def _files(ctx: PlanContext[PublishInputs]) -> workspace.Files:
    files = workspace.replay(ctx.template_dir, ctx.inputs.workspace)
    return workspace.below(files, ctx.inputs.sourcePath)


def _owner(repo_url: str) -> str:
    parsed = parse_repo_url(repo_url)
    owner = parsed.get("owner") or parsed.get("organization")
    if not owner or not parsed.get("repo"):
        raise InvalidInput(field="repoUrl", rule="must name an owner and a repo (?owner=…&repo=…)")
    return str(owner)


def _repo(repo_url: str) -> str:
    _owner(repo_url)
    name = str(parse_repo_url(repo_url)["repo"])
    if not re.fullmatch(REPO_NAME, name):
        raise InvalidInput(field="repoUrl", rule=f"repo must match the pattern {REPO_NAME}")
    return name


def _retried(ctx: Context[PublishInputs]) -> bool:
    """Whether an earlier attempt of this step got as far as creating the repository (the
    checkpoint is stored before the provider is called), as git:repo does."""
    fresh = False

    def first_attempt() -> str:
        nonlocal fresh
        fresh = True
        return "creating"

    ctx.checkpoint(f"{ctx.step_id}:repository", first_attempt)
    return not fresh
