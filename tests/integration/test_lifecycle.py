"""Lifetimes: what a request makes expires when its time is over, and can be extended within
its golden path's limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from goldenpath.app import Platform
from goldenpath.errors import InvalidInput, InvalidInputs
from tests.conftest import (
    ADMIN,
    BackgroundWorker,
    member,
    wait_for_request,
    wait_for_resource_state,
)

ALICE = member("alice", "payments")


def database_exists(pg_admin: psycopg.Connection[Any], name: str) -> bool:
    row = pg_admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def test_a_resource_expires_and_is_destroyed_and_may_be_extended_before(
    platform: Platform, pg_admin: psycopg.Connection[Any], unique_name: Callable[[str], str]
) -> None:
    name = unique_name("ttl")
    with BackgroundWorker(platform):
        request = platform.service.submit("postgres-database", {"name": name}, ALICE, ttl="2d")
        assert wait_for_request(platform, request.id).status == "succeeded"
        [resource] = platform.service.resources(ALICE)
        assert resource.expires_at is not None
        assert timedelta(days=1) < resource.expires_at - datetime.now(UTC) <= timedelta(days=2)

        extended = platform.service.extend(resource.id, ALICE, "30d")
        assert extended.expires_at is not None and extended.expires_at > resource.expires_at
        with pytest.raises(InvalidInput, match="outlive the 90d"):
            platform.service.extend(resource.id, ALICE, "13w")
        with pytest.raises(InvalidInput, match="at most 520w"):
            platform.service.extend(resource.id, ALICE, "999999w")
        assert platform.service.resource(resource.id, ALICE).expires_at == extended.expires_at

        assert platform.service.expire_resources() == []  # not yet
        later = datetime.now(UTC) + timedelta(days=31)
        assert platform.service.expire_resources(now=later) == [resource.id]
        assert wait_for_resource_state(platform, resource.id, {"destroyed", "failed"}) == (
            "destroyed"
        )
    assert not database_exists(pg_admin, name)
    events = [e["action"] for e in platform.audit.events(ADMIN, target=resource.id)]
    assert "resource.extended" in events and "resource.expired" in events


@pytest.mark.parametrize(
    ("ttl", "rule"),
    [("91d", "at most 90d"), ("forever", "a duration like"), ("0d", "a duration like")],
)
def test_a_lifetime_beyond_the_limit_is_refused_and_creates_nothing(
    platform: Platform, unique_name: Callable[[str], str], ttl: str, rule: str
) -> None:
    with pytest.raises((InvalidInput, InvalidInputs), match=rule):
        platform.service.submit("postgres-database", {"name": unique_name("x")}, ALICE, ttl=ttl)
    assert platform.service.requests(ADMIN) == []


def test_a_lifetime_past_the_platform_limit_is_refused_even_without_a_template_max(
    platform: Platform, unique_name: Callable[[str], str]
) -> None:
    """new-repo has no max: 999999w used to pass the dry run and overflow in the worker."""
    name = unique_name("repo").replace("_", "-")
    with pytest.raises(InvalidInput, match="at most 520w") as refused:
        platform.service.dry_run("new-repo", {"name": name}, ALICE, ttl="999999w")
    assert refused.value.field == "ttl"
    with pytest.raises(InvalidInput, match="at most 520w"):
        platform.service.submit("new-repo", {"name": name}, ALICE, ttl="999999w")
    assert platform.service.requests(ADMIN) == []
    preview = platform.service.dry_run("new-repo", {"name": name}, ALICE, ttl="520w")
    assert preview.plan["ttl_seconds"] == 520 * 7 * 86400


def test_without_a_ttl_nothing_expires(
    platform: Platform, worker: BackgroundWorker, unique_name: Callable[[str], str]
) -> None:
    request = platform.service.submit("postgres-database", {"name": unique_name("keep")}, ALICE)
    assert wait_for_request(platform, request.id).status == "succeeded"
    [resource] = platform.service.resources(ALICE)
    assert resource.expires_at is None
    assert platform.service.expire_resources(now=datetime.now(UTC) + timedelta(days=3650)) == []
    platform.service.destroy(resource.id, ALICE)
    wait_for_resource_state(platform, resource.id, {"destroyed"})
