"""What every hosting provider is asked to do, and the values they share.

A provider (``local``, ``github``, ``gitea``) receives a `RepoSpec` — the repository to make,
already validated and with its files rendered — and must create it idempotently, destroy it only
when it carries our marker, and report drift. The action picks the provider from the backend's
``provider`` option and never talks to a hosting service itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from goldenpath.actions.base import Observation
from goldenpath.actions.git.skeleton import SkeletonFile
from goldenpath.errors import ConfigurationError
from goldenpath.settings import BackendSettings

REPO_NAME = r"^[a-z][a-z0-9-]{1,62}$"
DEFAULT_BRANCH = "main"
COMMIT_AUTHOR = ("Golden Path", "goldenpath@localhost")
COMMIT_MESSAGE = "Initial commit from Golden Path"
_ORG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

Log = Callable[[str], None]


@dataclass(frozen=True)
class RepoSpec:
    """A repository to create: validated name, rendered files, and our ownership marker."""

    name: str
    description: str
    private: bool
    marker: str
    files: tuple[SkeletonFile, ...]
    # True when an earlier attempt of this step got as far as creating the repository; lets a
    # provider whose marker is set in a second call adopt the empty, unmarked repository it left.
    retried: bool = False


@dataclass(frozen=True)
class RepoOutputs:
    clone_url: str
    web_url: str
    # What the provider really enforces on the default branch, in words for the developer.
    protection: str
    default_branch: str = DEFAULT_BRANCH

    def as_dict(self) -> dict[str, Any]:
        return {
            "clone_url": self.clone_url,
            "default_branch": self.default_branch,
            "protection": self.protection,
            "web_url": self.web_url,
        }


class RepoHost(Protocol):
    """One hosting provider, bound to one configured backend."""

    def create(self, spec: RepoSpec, log: Log) -> RepoOutputs:
        """Create the repository, or carry on with the one an earlier attempt made."""

    def destroy(self, name: str, marker: str, log: Log) -> None:
        """Delete the repository if it is ours; nothing to do when it is gone."""

    def observe(self, name: str, marker: str, private: bool) -> Observation:
        """Existence and drift from what `create` made (protection, visibility, marker)."""


def marker_topic(marker: str) -> str:
    """The repository topic that stands for our marker where only short slugs fit (GitHub and
    Gitea topics: lower-case letters, digits and '-', at most 35 characters on Gitea)."""
    return "goldenpath-" + hashlib.sha256(marker.encode()).hexdigest()[:16]


def required_option(backend: BackendSettings, backend_name: str, option: str) -> str:
    value = backend.option(option)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            problem=f"git backend '{backend_name}' needs the '{option}' option"
        )
    return value.strip()


def organisation(backend: BackendSettings, backend_name: str) -> str:
    org = required_option(backend, backend_name, "org")
    if not _ORG.fullmatch(org):
        raise ConfigurationError(problem=f"git backend '{backend_name}': invalid org '{org}'")
    return org
