"""Drift: an out-of-band change to a live resource is found on demand and by the worker's sweep."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql

from goldenpath.app import Platform
from goldenpath.errors import ResourceNotFound
from tests.conftest import ADMIN, BackgroundWorker, member, wait_for_request

ALICE = member("alice", "payments")


def test_a_grant_made_by_hand_is_reported_and_marks_the_resource_drifted(
    make_platform: Callable[..., Platform],
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    platform = make_platform(drift_check_minutes=0.0001)
    name = unique_name("drift")
    with BackgroundWorker(platform):
        done = wait_for_request(
            platform, platform.service.submit("postgres-database", {"name": name}, ALICE).id
        )
    [resource] = platform.service.resources(ALICE)
    assert platform.service.check(resource.id, ALICE).in_sync

    pg_admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO PUBLIC").format(sql.Identifier(name)))
    observation = platform.service.check(resource.id, ALICE)
    assert not observation.in_sync
    assert [(d.field, d.expected, d.actual) for d in observation.drift] == [
        ("public_connect", False, True)
    ]
    assert platform.service.resource(resource.id, ADMIN).state == "drifted"
    with pytest.raises(ResourceNotFound):
        platform.service.check(resource.id, member("mallory", "other-team"))

    pg_admin.execute(
        sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name))
    )
    assert platform.service.sweep_drift() == 1  # the worker's periodic sweep
    assert platform.service.resource(resource.id, ADMIN).state == "active"
    assert done.status == "succeeded"
    with BackgroundWorker(platform):
        platform.service.destroy(resource.id, ALICE)
        from tests.conftest import wait_for_resource_state

        wait_for_resource_state(platform, resource.id, {"destroyed"})
