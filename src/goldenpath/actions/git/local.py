"""The ``local`` provider: bare repositories under a folder, served by `goldenpath.gitserver`.

Each repository is ``<root>/<name>.git``. It is made in a hidden staging folder with our marker
in its config and renamed into place, so a repository of that name exists only once it is marked:
a crash never leaves an unmarked repository that a retry would have to refuse. The initial commit
is written with plumbing (``add``, ``write-tree``, ``commit-tree``) and published with
``update-ref`` against an empty old value, so it happens at most once. A ``pre-receive`` hook
protects ``main`` from force-pushes and deletion.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from goldenpath.actions.base import Drift, Observation, not_ours
from goldenpath.actions.git.spec import (
    COMMIT_AUTHOR,
    COMMIT_MESSAGE,
    DEFAULT_BRANCH,
    Log,
    RepoOutputs,
    RepoSpec,
)
from goldenpath.errors import ActionError, BackendUnavailable, ConfigurationError, ResourceTaken
from goldenpath.settings import BackendSettings

MARKER_KEY = "goldenpath.marker"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000/git"
GIT_TIMEOUT_SECONDS = 60
# Exactly what the hook below enforces: the platform's git server has no pull requests.
PROTECTION_TEXT = (
    "main refuses force-pushes and deletion; direct (fast-forward) pushes to main are allowed"
)

# Runs inside `git receive-pack`, so `git` is on PATH and the repository is the current one.
# All-zero ids (any hash length) mean "created" (old) or "deleted" (new).
PRE_RECEIVE_HOOK = """#!/bin/sh
# Installed by Golden Path: protects main from force-pushes and deletion. Changing or removing
# this hook is reported as drift.
status=0
while read -r old new ref; do
    [ "$ref" = "refs/heads/main" ] || continue
    case "$new" in
        *[!0]*) ;;
        *) echo "goldenpath: deleting main is not allowed" >&2; status=1; continue ;;
    esac
    case "$old" in
        *[!0]*) ;;
        *) continue ;;
    esac
    if ! git merge-base --is-ancestor "$old" "$new"; then
        echo "goldenpath: force-push to main refused: $new is not a fast-forward of $old;" \\
            "pull, merge or rebase, and push again" >&2
        status=1
    fi
done
exit $status
"""


class LocalHost:
    def __init__(self, backend: BackendSettings, backend_name: str, data_dir: Path | None) -> None:
        self._backend = backend_name
        root = backend.option("root")
        # Absolute, so the folder does not depend on the working directory of a later call.
        if root:
            self.root = Path(str(root)).resolve()
        elif data_dir is not None:
            self.root = (data_dir / "git").resolve()
        else:
            raise ConfigurationError(
                problem=f"git backend '{backend_name}' needs a 'root' folder (or a data dir)"
            )
        self._public_url = str(backend.option("public_url") or DEFAULT_PUBLIC_URL).rstrip("/")

    def path(self, name: str) -> Path:
        return self.root / f"{name}.git"

    def create(self, spec: RepoSpec, log: Log) -> RepoOutputs:
        repo = self.path(spec.name)
        with self._name_lock(spec.name):
            if repo.exists() or repo.is_symlink():
                if repository_marker(repo) != spec.marker:
                    raise ResourceTaken(
                        kind="git repository", name=spec.name, backend=self._backend
                    )
                log(f"repository {spec.name} exists from an earlier attempt; carrying on")
            else:
                self._create_bare(repo, spec)
                # The log is the developer's: the repository's name, not the server's folders.
                log(f"created repository {spec.name}")
            _install_hook(repo)
            if _has_main(repo):
                log("main already has the initial commit")
            else:
                _initial_commit(repo, spec)
                log(f"committed {len(spec.files)} skeleton files on main")
        url = f"{self._public_url}/{spec.name}.git"
        return RepoOutputs(clone_url=url, web_url=url, protection=PROTECTION_TEXT)

    def destroy(self, name: str, marker: str, log: Log) -> None:
        repo = self.path(name)
        with self._name_lock(name):
            if not (repo.exists() or repo.is_symlink()):
                log(f"repository {name} is already gone")
                return
            if repo.is_symlink() or repository_marker(repo) != marker:
                raise not_ours(f"repository '{name}'", "not removing it")
            shutil.rmtree(repo)
            log(f"removed repository {name}")

    def observe(self, name: str, marker: str, private: bool) -> Observation:
        repo = self.path(name)
        if not repo.is_dir():
            return Observation(exists=False)
        drift: list[Drift] = []
        actual_marker = repository_marker(repo)
        if actual_marker != marker:
            drift.append(Drift("marker", marker, actual_marker))
        hook = repo / "hooks" / "pre-receive"
        if not hook.is_file():
            drift.append(Drift("pre_receive_hook", "installed", "missing"))
        elif hook.read_text(errors="replace") != PRE_RECEIVE_HOOK or not os.access(hook, os.X_OK):
            drift.append(Drift("pre_receive_hook", "installed", "changed"))
        if not _has_main(repo):
            drift.append(Drift("default_branch", DEFAULT_BRANCH, None))
        return Observation(exists=True, drift=tuple(drift))

    def _create_bare(self, repo: Path, spec: RepoSpec) -> None:
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=self.root))
        try:
            _git(
                "init",
                "--quiet",
                "--bare",
                "--template=",
                f"--initial-branch={DEFAULT_BRANCH}",
                str(staging),
            )
            _git("--git-dir", str(staging), "config", MARKER_KEY, spec.marker)
            # Served repositories accept pushes (the server names the pusher in REMOTE_USER).
            _git("--git-dir", str(staging), "config", "http.receivepack", "true")
            (staging / "description").write_text(spec.description + "\n", encoding="utf-8")
            staging.rename(repo)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    @contextmanager
    def _name_lock(self, name: str) -> Iterator[None]:
        """One operation on one repository name at a time, across processes on this machine."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = open(self.root / f".{name}.lock", "a")  # noqa: SIM115 - held for the block
        except OSError as exc:
            raise BackendUnavailable(backend=self._backend, problem=str(exc)) from exc
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


def _git(*args: str, env: dict[str, str] | None = None) -> str:
    """Run git isolated from the caller's environment and configuration; stdout on success."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    clean.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    clean.update(env or {})
    try:
        result = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            env=clean,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise BackendUnavailable(
            backend="git", problem="the git command is not installed"
        ) from None
    except subprocess.TimeoutExpired:
        raise BackendUnavailable(backend="git", problem=f"git {args[0]} timed out") from None
    if result.returncode != 0:
        raise ActionError(problem=f"git {' '.join(args[:3])} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def repository_marker(repo: Path) -> str | None:
    """Our marker from the repository's own config file (never global or system config)."""
    config = repo / "config"
    if repo.is_symlink() or not config.is_file():
        return None
    try:
        return _git("config", "--file", str(config), "--get", MARKER_KEY) or None
    except ActionError:
        return None  # `git config --get` exits 1 when the key is absent


def _has_main(repo: Path) -> bool:
    try:
        _git(
            "--git-dir",
            str(repo),
            "rev-parse",
            "--verify",
            "--quiet",
            f"refs/heads/{DEFAULT_BRANCH}^{{commit}}",
        )
    except ActionError:
        return False
    return True


def _install_hook(repo: Path) -> None:
    hooks = repo / "hooks"
    hooks.mkdir(exist_ok=True)
    staged = hooks / ".pre-receive.goldenpath"
    staged.write_text(PRE_RECEIVE_HOOK, encoding="utf-8")
    staged.chmod(0o755)
    staged.replace(hooks / "pre-receive")  # atomic: a push never sees a half-written hook


def _initial_commit(repo: Path, spec: RepoSpec) -> None:
    name, email = COMMIT_AUTHOR
    with tempfile.TemporaryDirectory(prefix="goldenpath-skeleton-") as scratch:
        tree = Path(scratch) / "tree"
        for file in spec.files:
            target = tree / file.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.content)
            target.chmod(0o755 if file.executable else 0o644)
        # The index lives outside the work tree so it is not committed; --force because the
        # skeleton's own .gitignore must not hide skeleton files.
        env = {
            "GIT_INDEX_FILE": str(Path(scratch) / "index"),
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        git_dir = ("--git-dir", str(repo), "--work-tree", str(tree))
        _git(*git_dir, "add", "--all", "--force", ".", env=env)
        tree_id = _git(*git_dir, "write-tree", env=env)
        commit = _git(*git_dir, "commit-tree", tree_id, "-m", COMMIT_MESSAGE, env=env)
        # An empty old value: fails rather than moving main if it appeared meanwhile.
        _git(
            "--git-dir",
            str(repo),
            "update-ref",
            f"refs/heads/{DEFAULT_BRANCH}",
            commit,
            "",
            env=env,
        )
