"""An honest catalog: a golden path whose backend is not configured is listed as needing setup
and refused with its own error (not "bad input"), before anything is recorded or made."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from goldenpath.app import Platform
from goldenpath.cli.exit_codes import NOT_CONFIGURED, exit_code_for
from goldenpath.errors import BackendNotConfigured
from goldenpath.settings import BackendSettings
from tests.conftest import ADMIN, member

ALICE = member("alice", "payments")
CLOUD_PATHS = {
    "ec2-instance": "backend 'aws' of kind 'aws'",
    "s3-bucket": "backend 'aws' of kind 'aws'",
    "redis": "backend 'redis' of kind 'redis'",
    "mysql-database": "backend 'mysql' of kind 'mysql'",
    "ci-secret": "backend 'ci' of kind 'ci'",
}


def test_without_backends_the_cloud_paths_need_setup_and_the_local_ones_do_not(
    platform: Platform,
) -> None:
    needs = {
        t.name: [m.describe() for m in platform.service.needs_setup(t)] for t in platform.catalog
    }
    for name, backend in CLOUD_PATHS.items():
        assert needs[name] == [backend], name
    for ready in ("postgres-database", "new-repo", "service-onboarding"):
        assert needs[ready] == [], ready


@pytest.mark.parametrize("name", sorted(CLOUD_PATHS))
def test_a_path_that_needs_setup_is_refused_and_records_nothing(
    platform: Platform, name: str
) -> None:
    for attempt in (platform.service.dry_run, platform.service.submit):
        with pytest.raises(BackendNotConfigured, match="not set up on this platform") as raised:
            attempt(name, {"name": "web"}, ALICE)
        assert CLOUD_PATHS[name] in str(raised.value)
        assert exit_code_for(raised.value) == NOT_CONFIGURED
    assert platform.service.requests(ADMIN) == []


def test_configuring_the_backend_makes_the_path_available(
    make_platform: Callable[..., Platform],
) -> None:
    platform = make_platform(
        backends={"redis": BackendSettings(kind="redis", dsn="redis://127.0.0.1:6379/0")}
    )
    assert platform.service.needs_setup(platform.catalog.get("redis")) == ()
    assert platform.service.needs_setup(platform.catalog.get("mysql-database")) != ()
