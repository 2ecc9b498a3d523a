"""Guardrails on real requests: denial before anything is created, fail-closed policies, and the
exception path through a second person's approval."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from goldenpath.app import Platform
from goldenpath.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    PolicyDenied,
    PolicyMisconfigured,
)
from goldenpath.store import queries
from tests.conftest import (
    ADMIN,
    ADMIN_URL,
    BackgroundWorker,
    member,
    wait_for_request,
    wait_for_resource_state,
)

ALICE = member("alice", "payments")
BOB = member("bob", "payments", "approver")

# What the starter library's database_sizes.rego says of a medium database on the platform's
# own PostgreSQL server (the tests configure no postgres backend of their own).
ON_PLATFORM_SERVER = (
    r"database_sizes\.rego: postgres:database\.\w+ is a medium database \(more than 20 "
    r"connections\) on the platform's own PostgreSQL server"
)

DATABASE_FREEZE = """
package goldenpath.org.database_freeze

deny contains msg if {
    some resource in input.plan.resources
    resource.type == "postgres:database"
    msg := sprintf("no new databases during the freeze: '%s'", [resource.name])
}
"""


def database_exists(pg_admin: psycopg.Connection[Any], name: str) -> bool:
    row = pg_admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def test_a_denied_request_is_recorded_refused_and_creates_nothing(
    platform: Platform,
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("big")
    preview = platform.service.dry_run("postgres-database", {"name": name, "size": "medium"}, ALICE)
    assert preview.verdict.decision == "deny"
    assert [v.policy for v in preview.verdict.violations] == ["database_sizes.rego"]

    with pytest.raises(PolicyDenied, match=ON_PLATFORM_SERVER) as denied:
        platform.service.submit("postgres-database", {"name": name, "size": "medium"}, ALICE)
    [recorded] = platform.service.requests(ADMIN)
    assert recorded.id == denied.value.details["request_id"]
    assert recorded.status == "rejected"
    assert not database_exists(pg_admin, name)
    assert platform.service.resources(ADMIN, include_destroyed=True) == []


def test_a_small_database_on_the_platform_server_is_allowed(platform: Platform) -> None:
    preview = platform.service.dry_run("postgres-database", {"name": "gpt_small"}, ALICE)
    assert preview.verdict.decision == "allow", preview.verdict.as_dict()
    [resource] = preview.plan["resources"]
    assert resource["normalized"]["size"] == "small"
    assert resource["normalized"]["on_platform_server"] is True


def test_a_medium_database_on_a_server_of_its_own_is_allowed(
    make_platform: Callable[..., Platform],
) -> None:
    own_server = {"kind": "postgres", "dsn": ADMIN_URL}
    platform = make_platform(backends={"postgres": own_server})
    preview = platform.service.dry_run(
        "postgres-database", {"name": "gpt_medium", "size": "medium"}, ALICE
    )
    assert preview.verdict.decision == "allow", preview.verdict.as_dict()
    [resource] = preview.plan["resources"]
    assert resource["normalized"]["size"] == "medium"
    assert resource["normalized"]["on_platform_server"] is False


def test_the_exception_path_needs_someone_else_to_approve(
    platform: Platform,
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("exc")
    parameters = {"name": name, "size": "medium"}
    with pytest.raises(InvalidInput, match="justification"):
        platform.service.submit("postgres-database", parameters, ALICE, justification="x")
    waiting = platform.service.submit(
        "postgres-database",
        parameters,
        ALICE,
        justification="Black Friday load test needs 50 connections for one week.",
    )
    assert waiting.status == "pending_approval" and waiting.is_exception
    assert waiting.verdict is not None and waiting.verdict["decision"] == "deny"

    with pytest.raises(AccessDenied, match="their own request"):
        platform.service.approve(waiting.id, ALICE, "looks fine to me")
    with BackgroundWorker(platform):
        approved = platform.service.approve(waiting.id, BOB, "ok for one week")
        assert approved.status == "queued" and approved.decided_by == "bob"
        done = wait_for_request(platform, waiting.id)
    assert done.status == "succeeded", done.error
    assert database_exists(pg_admin, name)
    with pytest.raises(Conflict, match="not waiting for approval"):
        platform.service.reject(waiting.id, member("carol", "payments", "approver"), "too late")

    [resource] = platform.service.resources(ADMIN)
    with BackgroundWorker(platform):
        platform.service.destroy(resource.id, ALICE)
        wait_for_resource_state(platform, resource.id, {"destroyed"})


def test_a_rejected_exception_never_runs(
    platform: Platform, unique_name: Callable[[str], str]
) -> None:
    waiting = platform.service.submit(
        "postgres-database",
        {"name": unique_name("rej"), "size": "medium"},
        ALICE,
        justification="We would like a bigger database, please.",
    )
    rejected = platform.service.reject(waiting.id, BOB, "use a pooler instead")
    assert rejected.status == "rejected"
    assert rejected.error == "rejected by bob: use a pooler instead"


def test_the_worker_judges_again_before_applying(
    make_platform: Callable[..., Platform],
    tmp_path: Path,
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    """A policy added after submission still stops a queued request before it creates anything."""
    folder = tmp_path / "org-policies"
    folder.mkdir()
    lenient = make_platform(policy_dir=folder)
    name = unique_name("late")
    queued = lenient.service.submit("postgres-database", {"name": name}, ALICE)
    (folder / "database_freeze.rego").write_text(DATABASE_FREEZE)
    strict = make_platform(policy_dir=folder)
    with BackgroundWorker(strict):
        done = wait_for_request(strict, queued.id)
    assert done.status == "rejected"
    assert done.error is not None and "denied by guardrail before apply" in done.error
    assert not database_exists(pg_admin, name)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "package goldenpath.org.broken\n\ndeny contains msg if {\n",
            "policy engine error in broken.rego",
        ),
        (
            "package goldenpath.org.broken\n\ndeny contains msg if { msg := no_such_builtin(1) }\n",
            "policy engine error in broken.rego",
        ),
        (
            "package goldenpath_org.broken\n\ndeny contains msg if { msg := input.x }\n",
            "broken.rego: declares package goldenpath_org.broken, which no evaluation reads",
        ),
    ],
    ids=["syntax", "unknown-builtin", "dead-package"],
)
def test_a_broken_policy_fails_closed_and_says_the_platform_is_misconfigured(
    make_platform: Callable[..., Platform], tmp_path: Path, source: str, expected: str
) -> None:
    folder = tmp_path / "org-policies"
    folder.mkdir()
    (folder / "broken.rego").write_text(source)
    platform = make_platform(policy_dir=folder)
    with pytest.raises(PolicyMisconfigured, match="not a problem with your request") as caught:
        platform.service.dry_run("postgres-database", {"name": "gpt_anything"}, ALICE)
    assert expected in str(caught.value)
    assert "panicked" not in str(caught.value) and "backtrace" not in str(caught.value).lower()
    with pytest.raises(PolicyMisconfigured, match=r"broken\.rego"):
        platform.service.submit("postgres-database", {"name": "gpt_anything"}, ALICE)
    with platform.database.begin() as conn:
        assert queries.list_requests(conn) == []


def test_a_budget_overrun_waits_for_approval(
    make_platform: Callable[..., Platform], unique_name: Callable[[str], str]
) -> None:
    platform = make_platform(teams={"payments": {"monthly_budget_usd": 10}})
    request = platform.service.submit("postgres-database", {"name": unique_name("budget")}, ALICE)
    assert request.status == "pending_approval"
    assert request.verdict is not None
    assert request.verdict["decision"] == "require_approval"
    assert "budget" in str(request.verdict["approvals"])
