"""What ``ci:secret`` asks of a CI provider: the `SecretStore` port and the `SecretTarget`.

A backend of kind ``ci`` looks like this in the platform settings::

    backends:
      ci:
        kind: ci
        provider: github            # or gitlab
        token: ...                  # GitHub: a token allowed to write Actions secrets;
                                    # GitLab: a PRIVATE-TOKEN of a project maintainer
        api_url: https://api.github.com      # optional; GitHub Enterprise or self-hosted GitLab
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import SecretStr

from goldenpath.actions.base import Context, Observation

_NOT_IN_NAMES = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class SecretTarget:
    """Where a secret lives, and the flags it carries; never the value."""

    repository: str
    name: str
    protected: bool = True
    masked: bool = True

    @property
    def resource_name(self) -> str:
        """The catalog's name for the secret, which also reserves it against a second request.

        Catalog names follow the org naming guardrail (``^[a-z][a-z0-9_-]{1,62}$``), which an
        ``Owner/repo.name/SECRET`` path does not: a readable slug is followed by a hash of the
        exact path, so two different secrets never share a name. The repository is lower-cased
        first because GitHub and GitLab resolve repository paths case-insensitively.
        """
        path = f"{self.repository.lower()}/{self.name}"
        digest = hashlib.sha256(path.encode()).hexdigest()[:10]
        slug = _NOT_IN_NAMES.sub("-", path.lower())[:48].strip("-")
        return f"ci-{slug}-{digest}"

    def config(self, provider: str | None) -> dict[str, Any]:
        """What the catalog records (and guardrails see) about the secret."""
        config: dict[str, Any] = {
            "repository": self.repository,
            "name": self.name,
            "provider": provider,
        }
        if provider == "gitlab":
            config.update(protected=self.protected, masked=self.masked)
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SecretTarget:
        return cls(
            repository=str(config["repository"]),
            name=str(config["name"]),
            protected=bool(config.get("protected", True)),
            masked=bool(config.get("masked", True)),
        )


class SecretStore(Protocol):
    """One provider's secrets; each method is idempotent and translates its own errors."""

    provider: str

    def check(self, target: SecretTarget, value: SecretStr) -> None:
        """Refuse, before anything is made, a value the provider would refuse."""

    def put(self, ctx: Context[Any], target: SecretTarget, value: SecretStr) -> str:
        """Create the secret, or re-assert our own on a retry; the time it was set (ISO 8601)."""

    def delete(self, ctx: Context[Any], target: SecretTarget) -> None:
        """Remove our secret; nothing to do when it is already gone."""

    def observe(
        self, ctx: Context[Any], target: SecretTarget, outputs: Mapping[str, Any]
    ) -> Observation:
        """The live secret compared with what `put` made (its outputs)."""
