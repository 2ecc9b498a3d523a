"""The terraform backend's `state` option: sealed in the platform by default."""

from __future__ import annotations

import shutil

import pytest

from goldenpath.actions.terraform.backend import resolve_backend
from goldenpath.errors import BackendUnavailable, ConfigurationError
from goldenpath.settings import BackendSettings

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform")
PLATFORM = {"postgres": BackendSettings(kind="postgres", dsn="postgresql://platform/db")}


def test_state_is_sealed_in_the_platform_by_default_and_old_pg_state_is_looked_for() -> None:
    backend = resolve_backend(PLATFORM, "terraform")
    assert backend.state == "platform"
    assert backend.conn_str == "postgresql://platform/db"  # where the pg backend kept it


def test_an_unknown_state_kind_is_refused_naming_the_backend_and_the_choices() -> None:
    backends = {**PLATFORM, "terraform": BackendSettings(kind="terraform", state="s3")}
    with pytest.raises(ConfigurationError, match=r"'terraform': state must be one of platform"):
        resolve_backend(backends, "terraform")


def test_the_pg_backend_needs_a_server() -> None:
    backends = {"terraform": BackendSettings(kind="terraform", state="pg")}
    with pytest.raises(BackendUnavailable, match="no PostgreSQL for Terraform state"):
        resolve_backend(backends, "terraform")
