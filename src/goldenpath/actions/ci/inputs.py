"""The inputs of ``ci:secret`` and the rules a repository, a secret name and a value follow.

The value is a `SecretStr`: its repr, its string and every dump show a mask, so neither a log
line, an error nor the runner's stored copy of the step input can carry it. Only the provider
adapters read it, through ``get_secret_value()``, at the moment they send it.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

from goldenpath.actions.base import ActionInputs

BACKEND_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
REPOSITORY_PART = r"[A-Za-z0-9_.-]{1,100}"
REPOSITORY = rf"^{REPOSITORY_PART}/{REPOSITORY_PART}$"
# Upper case only: GitHub folds secret names to upper case, so `token` and `TOKEN` would be one
# secret there while the catalog counted two. One spelling keeps the name a unique key.
CI_NAME = r"^[A-Z_][A-Z0-9_]{0,99}$"
RESERVED_PREFIX = "GITHUB_"
# GitHub's limit on a secret; GitLab's is larger, so one limit serves both.
MAX_VALUE_BYTES = 48 * 1024
# GitLab's rule for masking an expanded variable (app/models/concerns/ci/maskable.rb): one line,
# 8 or more characters from the Base64 alphabet plus @ : . ~ - _ (no spaces, no `$`).
GITLAB_MASKABLE = re.compile(r"\A[a-zA-Z0-9_+=/@:.~-]{8,}\Z")


class CiSecretInputs(ActionInputs):
    """What a template passes to ``ci:secret``."""

    # A rejected input must not be echoed back: for `value` that would print the secret.
    model_config = ConfigDict(hide_input_in_errors=True)

    repository: str = Field(
        pattern=REPOSITORY,
        description="'owner/name' (GitLab: 'group/project'); letters, digits, '_', '.', '-'.",
    )
    name: str = Field(
        pattern=CI_NAME,
        description="Secret name: upper-case letters, digits and '_', not starting with a digit "
        "or with GITHUB_; at most 100 characters.",
    )
    value: SecretStr = Field(
        description="The secret itself; never logged, stored in the step input or returned.",
        json_schema_extra={"writeOnly": True, "format": "password"},
    )
    backend: str = Field(default="ci", pattern=BACKEND_NAME)
    protected: bool = Field(
        default=True, description="GitLab: only pipelines on protected branches and tags see it."
    )
    masked: bool = Field(default=True, description="GitLab: hide the value in job logs.")

    @model_validator(mode="before")
    @classmethod
    def _wrap_value_first(cls, data: Any) -> Any:
        # Wrapped before any field is checked, so a refused value is a masked `SecretStr` even
        # in `ValidationError.errors()`, whose ``input`` ignores `hide_input_in_errors`.
        if isinstance(data, dict) and isinstance(data.get("value"), str):
            return {**data, "value": SecretStr(data["value"])}
        return data

    @field_validator("repository")
    @classmethod
    def _no_dot_segments(cls, repository: str) -> str:
        # `..` in a URL path is resolved by clients and proxies: it could address another API.
        if ".." in repository or any(part == "." for part in repository.split("/")):
            raise ValueError("must not contain '..' or a '.' segment")
        return repository

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name.startswith(RESERVED_PREFIX):
            raise ValueError(f"must not start with {RESERVED_PREFIX} (reserved by GitHub)")
        return name

    @field_validator("value")
    @classmethod
    def _storable(cls, value: SecretStr) -> SecretStr:
        # The messages name the rule only, never the value.
        secret = value.get_secret_value()
        if not secret:
            raise ValueError("must not be empty")
        if len(secret.encode("utf-8")) > MAX_VALUE_BYTES:
            raise ValueError(f"must be at most {MAX_VALUE_BYTES} bytes (48 KiB) in UTF-8")
        if "\x00" in secret:
            raise ValueError("must not contain a NUL character")
        return value

    @field_serializer("value")
    def _masked(self, value: SecretStr) -> str:
        # Every dump, Python or JSON, shows the mask: the runner stores dumps of step inputs
        # (one sealed for `destroy`, one in clear for the request page), and neither needs the
        # value, since `destroy` and `observe` never send it.
        return str(value)


def gitlab_masking_problem(value: SecretStr) -> str | None:
    """Why GitLab would refuse to mask this value, naming the rule; None when it can."""
    secret = value.get_secret_value()
    if "\n" in secret or "\r" in secret:
        return "a masked GitLab variable must be a single line"
    if len(secret) < 8:
        return "a masked GitLab variable must be at least 8 characters long"
    if not GITLAB_MASKABLE.match(secret):
        return (
            "a masked GitLab variable may only contain letters, digits and + / = @ : . ~ - _ "
            "(no spaces, no $)"
        )
    return None
