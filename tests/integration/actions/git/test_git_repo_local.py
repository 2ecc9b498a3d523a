"""git:repo on the local provider, for real: bare repositories served by the platform's own
git server over HTTP, cloned and pushed to with the git CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from goldenpath import gitserver
from goldenpath.actions.base import Context, Drift
from goldenpath.actions.git.local import PROTECTION_TEXT
from goldenpath.actions.git.repo import GitRepo, GitRepoInputs
from goldenpath.errors import ActionError, ConfigurationError, NotAuthenticated, ResourceTaken
from goldenpath.settings import BackendSettings, Settings

from .conftest import MemoryJournal, git, git_context, repo_ref, serving


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def server_url(data_dir: Path) -> Iterator[str]:
    app = FastAPI()
    gitserver.mount(app, data_dir / "git")
    with serving(app) as url:
        yield url


@pytest.fixture
def backend(server_url: str) -> BackendSettings:
    return BackendSettings(kind="git", provider="local", public_url=f"{server_url}/git")


@pytest.fixture
def make_context(backend: BackendSettings, data_dir: Path) -> Any:
    def make(
        name: str = "orders-service",
        *,
        resource_id: str = "r-1",
        journal: MemoryJournal | None = None,
    ) -> Context[GitRepoInputs]:
        inputs = GitRepoInputs(name=name, description="Order intake API", values={"language": "go"})
        return git_context(
            inputs, backend, data_dir=data_dir, resource_id=resource_id, journal=journal
        )

    return make


def commits(repo: Path) -> list[str]:
    return git("--git-dir", str(repo), "log", "--format=%an <%ae> %s", "main").stdout.splitlines()


def test_creates_a_repository_that_clones_over_http_and_protects_main(
    make_context: Any, server_url: str, data_dir: Path, tmp_path: Path
) -> None:
    outputs = GitRepo().apply(make_context())

    url = f"{server_url}/git/orders-service.git"
    assert outputs == {
        "clone_url": url,
        "default_branch": "main",
        "protection": PROTECTION_TEXT,
        "web_url": url,
    }
    work = tmp_path / "work"
    git("clone", "--quiet", url, str(work))
    assert "# orders-service" in (work / "README.md").read_text()
    assert "Order intake API" in (work / "README.md").read_text()
    assert "Main language: go" in (work / "README.md").read_text()
    assert "* @payments" in (work / "CODEOWNERS").read_text().splitlines()
    assert "actions/checkout" in (work / ".github" / "workflows" / "ci.yml").read_text()
    assert ".env" in (work / ".gitignore").read_text().splitlines()
    assert commits(data_dir / "git" / "orders-service.git") == [
        "Golden Path <goldenpath@localhost> Initial commit from Golden Path"
    ]

    # An ordinary push (a fast-forward) is accepted.
    (work / "app.py").write_text("print('hello')\n")
    git("add", "app.py", cwd=work)
    git("commit", "--quiet", "-m", "Add app", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    assert len(commits(data_dir / "git" / "orders-service.git")) == 2

    # Rewriting main's history is refused by the server-side hook.
    git("reset", "--quiet", "--hard", "HEAD~1", cwd=work)
    (work / "other.txt").write_text("rewritten\n")
    git("add", "other.txt", cwd=work)
    git("commit", "--quiet", "-m", "Rewrite", cwd=work)
    forced = git("push", "--force", "origin", "main", cwd=work, check=False)
    assert forced.returncode != 0
    assert "force-push to main refused" in forced.stderr
    assert len(commits(data_dir / "git" / "orders-service.git")) == 2

    deleted = git("push", "origin", "--delete", "main", cwd=work, check=False)
    assert deleted.returncode != 0
    assert "deleting main is not allowed" in deleted.stderr

    # Other branches are the developers' own: force-pushing them is fine.
    git("push", "--quiet", "origin", "HEAD:refs/heads/topic", cwd=work)
    git("commit", "--quiet", "--amend", "-m", "Rewrite again", cwd=work)
    git("push", "--quiet", "--force", "origin", "HEAD:refs/heads/topic", cwd=work)


def test_a_retried_apply_carries_on_with_the_same_repository_and_commit(
    make_context: Any, data_dir: Path
) -> None:
    journal = MemoryJournal()
    first = GitRepo().apply(make_context(journal=journal))
    repo = data_dir / "git" / "orders-service.git"
    head = git("--git-dir", str(repo), "rev-parse", "main").stdout

    second = GitRepo().apply(make_context(journal=journal))

    assert second == first
    assert git("--git-dir", str(repo), "rev-parse", "main").stdout == head
    assert len(commits(repo)) == 1
    assert "exists from an earlier attempt" in " ".join(journal.lines)


def test_a_repository_the_platform_did_not_make_is_refused_and_kept(
    make_context: Any, data_dir: Path
) -> None:
    foreign = data_dir / "git" / "orders-service.git"
    foreign.parent.mkdir(parents=True)
    git("init", "--quiet", "--bare", str(foreign))

    with pytest.raises(ResourceTaken, match="orders-service"):
        GitRepo().apply(make_context())
    with pytest.raises(ActionError, match="not removing it"):
        GitRepo().destroy(make_context(), repo_ref("orders-service"))
    assert (foreign / "HEAD").is_file()
    assert not (foreign / "hooks" / "pre-receive").exists()


def test_another_resource_with_the_same_name_is_refused(make_context: Any) -> None:
    GitRepo().apply(make_context(resource_id="r-1"))

    with pytest.raises(ResourceTaken):
        GitRepo().apply(make_context(resource_id="r-2"))


def test_destroy_removes_our_repository_and_is_idempotent(
    make_context: Any, data_dir: Path, tmp_path: Path
) -> None:
    journal = MemoryJournal()
    GitRepo().apply(make_context(journal=journal))
    ref = repo_ref("orders-service")

    GitRepo().destroy(make_context(journal=journal), ref)
    GitRepo().destroy(make_context(journal=journal), ref)

    assert not (data_dir / "git" / "orders-service.git").exists()
    # The log is the developer's: it names the repository, never the server's folders.
    log = "\n".join(journal.lines)
    assert "created repository orders-service" in log
    assert "removed repository orders-service" in log
    assert str(data_dir.resolve()) not in log and str(tmp_path) not in log
    assert not GitRepo().observe(make_context(), ref).exists


def test_observe_reports_drift_in_the_hook_and_main(make_context: Any, data_dir: Path) -> None:
    GitRepo().apply(make_context())
    repo = data_dir / "git" / "orders-service.git"
    ref = repo_ref("orders-service")
    assert GitRepo().observe(make_context(), ref).in_sync

    hook = repo / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nexit 0\n")
    assert GitRepo().observe(make_context(), ref).drift == (
        Drift("pre_receive_hook", "installed", "changed"),
    )

    hook.unlink()
    git("--git-dir", str(repo), "update-ref", "-d", "refs/heads/main")
    assert GitRepo().observe(make_context(), ref).drift == (
        Drift("pre_receive_hook", "installed", "missing"),
        Drift("default_branch", "main", None),
    )

    # Applying again restores the protection (main's history is the developers' to restore).
    GitRepo().apply(make_context())
    assert hook.is_file()


def test_the_server_serves_only_the_smart_protocol_of_named_repositories(
    make_context: Any, server_url: str
) -> None:
    GitRepo().apply(make_context())
    for bad in ("../orders-service.git", "Orders.git", "orders-service", ".git", "x.git"):
        assert git("ls-remote", f"{server_url}/git/{bad}", check=False).returncode != 0, bad
    assert git("ls-remote", f"{server_url}/git/orders-service.git").stdout.strip()

    base = f"{server_url}/git"
    upload = "?service=git-upload-pack"
    with httpx.Client() as client:
        # The dumb protocol would hand out raw repository files (config, hooks).
        assert client.get(f"{base}/orders-service.git/info/refs").status_code == 403
        assert client.get(f"{base}/orders-service.git/config").status_code in (404, 405)
        assert client.get(f"{base}/orders-service.git/HEAD").status_code in (404, 405)
        for hostile in ("..%2F..%2Fetc", "%2e%2e", "orders-service.git%2F..", "a.git"):
            assert client.get(f"{base}/{hostile}/info/refs{upload}").status_code == 404, hostile
        assert client.post(f"{base}/orders-service.git/git-shell").status_code == 404


def test_the_served_root_is_the_local_backends_root(tmp_path: Path) -> None:
    local = {"kind": "git", "provider": "local"}
    elsewhere = {**local, "root": str(tmp_path / "repos")}
    github = {"kind": "git", "provider": "github", "root": "/ignored"}

    def root(**backends: dict[str, str]) -> Path:
        return gitserver.served_root(Settings(data_dir=tmp_path, backends=backends))

    assert root() == tmp_path / "git"
    assert root(git=local, hub=github) == tmp_path / "git"
    assert root(git=elsewhere) == tmp_path / "repos"
    with pytest.raises(ConfigurationError, match="share one 'root'"):
        root(git=local, other=elsewhere)


def test_with_an_authenticator_the_server_wants_a_valid_token(
    make_context: Any, data_dir: Path, tmp_path: Path
) -> None:
    def authenticate(token: str, repository: str, push: bool) -> str:
        if token != "gp_valid" or repository != "orders-service":
            raise NotAuthenticated(problem="unknown token")
        return "alice"

    GitRepo().apply(make_context())
    app = FastAPI()
    gitserver.mount(app, data_dir / "git", authenticate=authenticate)
    with serving(app) as url:
        host = url.removeprefix("http://")
        refs = f"{url}/git/orders-service.git/info/refs?service=git-upload-pack"
        with httpx.Client() as client:
            for auth in (None, ("alice", "gp_wrong"), ("alice", "")):
                refused = client.get(refs, auth=auth)
                assert refused.status_code == 401
                assert refused.headers["www-authenticate"].startswith("Basic")
        anonymous = git("ls-remote", f"{url}/git/orders-service.git", check=False)
        assert anonymous.returncode != 0
        work = tmp_path / "authenticated"
        git("clone", "--quiet", f"http://alice:gp_valid@{host}/git/orders-service.git", str(work))
        (work / "notes.md").write_text("hello\n")
        git("add", "notes.md", cwd=work)
        git("commit", "--quiet", "-m", "Notes", cwd=work)
        git("push", "--quiet", "origin", "main", cwd=work)
