"""`ci:secret` with ``provider: local``: secrets of the platform's own repositories, sealed in
its database (never in the repository folder), handed only to hooks of the repository they
were written for, and owned by the resource that wrote them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from goldenpath.actions.base import Context, ResourceRef
from goldenpath.actions.ci import local as local_ci
from goldenpath.actions.ci.inputs import CiSecretInputs
from goldenpath.actions.ci.secret import CiSecret
from goldenpath.actions.git.local import LocalHost, repository_marker
from goldenpath.actions.git.skeleton import SkeletonFile
from goldenpath.actions.git.spec import RepoSpec
from goldenpath.actions.testing import MemoryJournal
from goldenpath.app import Platform
from goldenpath.errors import ActionError, InvalidInput, ResourceTaken
from goldenpath.settings import BackendSettings
from goldenpath.store.action_state import SealedStateStore

VALUE = "local-secret-value-1234"
CI = BackendSettings(kind="ci", provider="local")


def git_backend(tmp_path: Path) -> BackendSettings:
    return BackendSettings(kind="git", provider="local", root=str(tmp_path / "git"))


def make_repo(tmp_path: Path, name: str, marker: str) -> Path:
    host = LocalHost(git_backend(tmp_path), "git", tmp_path)
    files = (SkeletonFile("README.md", b"# hello\n"),)
    host.create(RepoSpec(name, "", True, marker, files), lambda line: None)
    return host.path(name)


def context(
    platform: Platform, tmp_path: Path, inputs: CiSecretInputs, resource_id: str = "r-1"
) -> Context[Any]:
    return Context(
        inputs=inputs,
        backends={"ci": CI, "git": git_backend(tmp_path)},
        owner_team="payments",
        requested_by="alice",
        template_name="ci-secret",
        data_dir=tmp_path,
        state_store=SealedStateStore(platform.database, platform.box),
        request_id="req-1",
        step_id="secret",
        resource_id=resource_id,
        journal=MemoryJournal(),
    )


def inputs(repository: str = "local/web", name: str = "API_KEY") -> CiSecretInputs:
    return CiSecretInputs(repository=repository, name=name, value=VALUE)


def catalogued(ctx: Context[Any], outputs: dict[str, Any]) -> ResourceRef:
    planned = CiSecret().plan(ctx)[0]
    return ResourceRef(
        id=ctx.resource_id or "r-1",
        type=planned.type,
        name=planned.name,
        backend=planned.backend,
        config=planned.config,
        outputs=outputs,
    )


def hook_env(platform: Platform, repo: Path, name: str = "web") -> dict[str, str]:
    store = SealedStateStore(platform.database, platform.box)
    return local_ci.hook_environment(
        store.read_prefix(local_ci.repository_prefix(name)), repository_marker(repo)
    )


def test_the_secret_is_sealed_in_the_database_and_reaches_only_its_repositorys_hooks(
    platform: Platform, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path, "web", "goldenpath:repo-1")
    make_repo(tmp_path, "api", "goldenpath:repo-2")
    ctx = context(platform, tmp_path, inputs())
    outputs = CiSecret().apply(ctx)

    assert outputs["provider"] == "local"
    assert (
        outputs["read_as"] == "$GOLDENPATH_SECRET_API_KEY (in the repository's server-side hooks)"
    )
    assert hook_env(platform, repo) == {"GOLDENPATH_SECRET_API_KEY": VALUE}
    assert hook_env(platform, tmp_path / "git" / "api.git", "api") == {}
    with platform.database.begin() as conn:
        rows = conn.execute(sa.text("SELECT workspace, state FROM gp_terraform_states")).all()
    assert [key for key, _ in rows] == [local_ci.secret_key("web", "API_KEY")]
    assert VALUE.encode() not in bytes(rows[0][1])  # sealed
    for stored in repo.rglob("*"):
        if stored.is_file():
            assert VALUE.encode() not in stored.read_bytes(), stored
    assert CiSecret().observe(ctx, catalogued(ctx, outputs)).in_sync


def test_a_repository_made_again_under_the_same_name_gets_none_of_the_old_secrets(
    platform: Platform, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path, "web", "goldenpath:repo-1")
    CiSecret().apply(context(platform, tmp_path, inputs()))
    LocalHost(git_backend(tmp_path), "git", tmp_path).destroy(
        "web", "goldenpath:repo-1", lambda line: None
    )
    make_repo(tmp_path, "web", "goldenpath:repo-3")
    assert hook_env(platform, repo) == {}


def test_a_secret_another_resource_wrote_is_neither_taken_over_nor_deleted(
    platform: Platform, tmp_path: Path
) -> None:
    make_repo(tmp_path, "web", "goldenpath:repo-1")
    first = context(platform, tmp_path, inputs(), resource_id="r-1")
    outputs = CiSecret().apply(first)
    retried = CiSecret().apply(context(platform, tmp_path, inputs(), resource_id="r-1"))
    assert retried["name"] == "API_KEY"  # a retry of the same resource carries on

    other = context(platform, tmp_path, inputs(), resource_id="r-2")
    with pytest.raises(ResourceTaken):
        CiSecret().apply(other)
    with pytest.raises(ActionError, match="not the one this resource stored"):
        CiSecret().destroy(other, catalogued(other, outputs))
    observed = CiSecret().observe(other, catalogued(other, outputs))
    assert observed.exists and [d.field for d in observed.drift] == ["owner"]

    CiSecret().destroy(first, catalogued(first, outputs))
    assert not CiSecret().observe(first, catalogued(first, outputs)).exists
    CiSecret().destroy(first, catalogued(first, outputs))  # already gone: fine


def test_only_existing_local_repositories_named_local_slash_name_are_accepted(
    platform: Platform, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match=r"named local/<name>, e\.g\. local/web"):
        CiSecret().plan(context(platform, tmp_path, inputs(repository="acme/web")))
    with pytest.raises(ActionError, match="not found among the platform's local repositories"):
        CiSecret().apply(context(platform, tmp_path, inputs(repository="local/nope")))
