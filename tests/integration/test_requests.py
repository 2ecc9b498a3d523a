"""A request end to end: service → queue → worker → runner → real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from goldenpath.app import Platform
from goldenpath.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    InvalidInputs,
    TeamNotFound,
    TemplateNotFound,
)
from goldenpath.settings import BackendSettings
from goldenpath.store import queries
from tests.conftest import (
    ADMIN,
    BackgroundWorker,
    member,
    remember_secrets,
    wait_for_request,
    wait_for_resource_state,
)

ALICE = member("alice", "payments")


def database_exists(pg_admin: psycopg.Connection[Any], name: str) -> bool:
    row = pg_admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def role_exists(pg_admin: psycopg.Connection[Any], name: str) -> bool:
    return (
        pg_admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        is not None
    )


def test_postgres_database_request_succeeds_and_destroy_removes_it(
    platform: Platform,
    worker: BackgroundWorker,
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("orders")
    submitted = platform.service.submit("postgres-database", {"name": name}, ALICE)
    assert submitted.status == "queued"

    done = wait_for_request(platform, submitted.id)
    assert done.status == "succeeded", done.error
    assert [(s.step_id, s.status) for s in done.steps] == [("db", "succeeded")]
    assert done.outputs is not None and done.outputs["values"]["database"] == name
    assert "password" not in str(done.outputs["values"])
    secrets = remember_secrets(platform.service.reveal_secrets(done.id, ALICE))
    with psycopg.connect(secrets["dsn"]) as conn:
        conn.execute("CREATE TABLE orders (id int)")

    [resource] = platform.service.resources(ALICE)
    assert (resource.kind, resource.name, resource.state) == ("postgres:database", name, "active")
    assert resource.template_version == "1.0.0"

    platform.service.destroy(resource.id, ALICE)
    assert wait_for_resource_state(platform, resource.id, {"destroyed", "failed"}) == "destroyed"
    assert not database_exists(pg_admin, name)
    assert not role_exists(pg_admin, name)
    with platform.database.begin() as conn:
        actions = [e["action"] for e in queries.events(conn)]
    assert {"request.submitted", "request.succeeded", "secret.revealed"} <= set(actions)
    assert "resource.destroyed" in actions


@pytest.mark.parametrize(
    ("parameters", "field", "rule"),
    [
        ({"name": "x'); DROP TABLE t;--"}, "name", "lower-case letters"),
        ({"name": "a" * 40}, "name", "lower-case letters"),
        ({"name": "orders_ok", "bogus": 1}, "bogus", "not a parameter"),
        ({}, "name", "is required"),
        ({"name": "orders_ok", "size": "huge"}, "size", "one of: small, medium"),
        ({"name": "orders\x00"}, "name", "control characters"),
    ],
)
def test_bad_input_is_refused_and_creates_nothing(
    platform: Platform, parameters: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidInputs) as raised:
        platform.service.submit("postgres-database", parameters, ALICE)
    assert any(e.field == field and rule in str(e) for e in raised.value.errors), raised.value
    assert platform.service.requests(ADMIN) == []
    assert platform.service.resources(ADMIN, include_destroyed=True) == []


def test_unknown_template_and_bad_team_are_refused(platform: Platform) -> None:
    with pytest.raises(TemplateNotFound, match="no-such-path"):
        platform.service.submit("no-such-path", {}, ALICE)
    with pytest.raises(InvalidInput, match="team"):
        platform.service.submit("postgres-database", {"name": "abc"}, ALICE, team="Team; rm")


def test_a_request_for_a_team_that_does_not_exist_is_refused_and_creates_nothing(
    platform: Platform, pg_admin: psycopg.Connection[Any], unique_name: Callable[[str], str]
) -> None:
    name = unique_name("ghost")
    for submit in (platform.service.dry_run, platform.service.submit):
        with pytest.raises(TeamNotFound, match="ghost-team"):
            submit("postgres-database", {"name": name}, ADMIN, team="ghost-team")
    assert platform.service.requests(ADMIN) == []
    assert not database_exists(pg_admin, name)


def test_access_list_is_enforced(platform: Platform) -> None:
    with pytest.raises(AccessDenied, match="may not run"):
        platform.service.submit("restricted-path", {}, ALICE)


def test_dry_run_plans_without_creating(
    platform: Platform, pg_admin: psycopg.Connection[Any], unique_name: Callable[[str], str]
) -> None:
    name = unique_name("dry")
    preview = platform.service.dry_run("postgres-database", {"name": name, "size": "medium"}, ALICE)
    [resource] = preview.plan["resources"]
    assert resource["name"] == name and resource["config"] == {"connection_limit": 50}
    assert preview.plan["total_monthly_cost_usd"] == 15
    assert platform.service.requests(ADMIN) == []
    assert not database_exists(pg_admin, name)


def test_the_same_name_twice_is_a_conflict(
    platform: Platform, worker: BackgroundWorker, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("twice")
    first = platform.service.submit("postgres-database", {"name": name}, ALICE)
    assert wait_for_request(platform, first.id).status == "succeeded"
    with pytest.raises(Conflict, match="already exists"):
        platform.service.submit("postgres-database", {"name": name}, ALICE)
    [resource] = platform.service.resources(ADMIN)
    platform.service.destroy(resource.id, ALICE)
    wait_for_resource_state(platform, resource.id, {"destroyed"})


def test_a_failed_step_rolls_back_completed_steps(
    make_platform: Callable[..., Platform],
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    broken = BackendSettings(kind="postgres", dsn="postgresql://postgres@127.0.0.1:1/postgres")
    platform = make_platform(backends={"broken": broken})
    name = unique_name("rb")
    with BackgroundWorker(platform):
        request = platform.service.submit(
            "two-databases", {"name": name, "second_backend": "broken"}, ALICE
        )
        done = wait_for_request(platform, request.id)
    assert done.status == "failed"
    assert done.error is not None and "step 'second' failed" in done.error
    assert "unreachable" in done.error
    statuses = {s.step_id: s.status for s in done.steps}
    assert statuses == {"first": "rolled_back", "note": "rolled_back", "second": "failed"}
    assert not database_exists(pg_admin, f"{name}_a")
    assert not role_exists(pg_admin, f"{name}_a")
    # The second backend was never reachable, so whether anything is left there is unknown:
    # the catalog keeps that resource as 'failed' and says so, rather than guessing.
    assert "rollback incomplete" in done.error
    states = {r.name: r.state for r in platform.service.resources(ADMIN, include_destroyed=True)}
    assert states == {f"{name}_a": "destroyed", f"{name}_b": "failed"}


def test_logs_and_inputs_never_show_secrets(
    platform: Platform, worker: BackgroundWorker, unique_name: Callable[[str], str]
) -> None:
    request = platform.service.submit(
        "slow-database", {"name": unique_name("quiet"), "pause": 0}, ALICE
    )
    done = wait_for_request(platform, request.id)
    assert done.status == "succeeded", done.error
    secrets = remember_secrets(platform.service.reveal_secrets(done.id, ALICE))
    visible = repr(done) + repr(platform.service.logs(done.id, ADMIN))
    with platform.database.begin() as conn:
        visible += repr(queries.events(conn))
    for value in secrets.values():
        assert value not in visible
    [resource] = platform.service.resources(ADMIN)
    platform.service.destroy(resource.id, ALICE)
    wait_for_resource_state(platform, resource.id, {"destroyed"})


def test_a_running_request_can_be_cancelled_and_is_rolled_back(
    platform: Platform,
    worker: BackgroundWorker,
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("cancel")
    request = platform.service.submit("slow-database", {"name": name, "pause": 30}, ALICE)
    wait_for_request(
        platform,
        request.id,
        until=lambda r: any(s.step_id == "pause" and s.status == "running" for s in r.steps),
    )
    assert platform.service.cancel(request.id, ALICE).status == "cancelling"
    done = wait_for_request(platform, request.id, timeout=90)
    assert done.status == "cancelled"
    pause = done.step("pause")
    assert pause is not None and pause.error is not None and "cancelled" in pause.error
    assert {s.step_id: s.status for s in done.steps} == {
        "db": "rolled_back",
        "pause": "failed",
        "token": "pending",
    }
    assert not database_exists(pg_admin, name)


def test_a_failed_request_is_retried_after_the_fault_is_fixed(
    make_platform: Callable[..., Platform],
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    from tests.conftest import ADMIN_URL

    name = unique_name("retry")
    broken = BackendSettings(kind="postgres", dsn="postgresql://postgres@127.0.0.1:1/postgres")
    failing = make_platform(backends={"broken": broken})
    with BackgroundWorker(failing):
        request = failing.service.submit(
            "two-databases", {"name": name, "second_backend": "broken"}, ALICE
        )
        assert wait_for_request(failing, request.id).status == "failed"
    assert not database_exists(pg_admin, f"{name}_a")  # rolled back
    before = failing.service.resources(ALICE, include_destroyed=True)
    assert any(r.error for r in before), [(r.name, r.state, r.error) for r in before]

    # The operator points the backend at a server that answers; the developer retries.
    fixed = make_platform(backends={"broken": BackendSettings(kind="postgres", dsn=ADMIN_URL)})
    with BackgroundWorker(fixed):
        assert fixed.service.retry(request.id, ALICE).status == "queued"
        done = wait_for_request(fixed, request.id)
    assert done.status == "succeeded", done.error
    assert [s.status for s in done.steps] == ["succeeded", "succeeded", "succeeded"]
    assert database_exists(pg_admin, f"{name}_a") and database_exists(pg_admin, f"{name}_b")
    with pytest.raises(Conflict, match="only a failed request"):
        fixed.service.retry(request.id, ALICE)
    states = {r.name: r.state for r in fixed.service.resources(ALICE)}
    assert states[f"{name}_a"] == "active" and states[f"{name}_b"] == "active"
    # What the failed attempt said about them is history now, not the resources' state.
    assert [r.error for r in fixed.service.resources(ALICE)] == [None, None]
    with BackgroundWorker(fixed):
        for resource in fixed.service.resources(ALICE):
            fixed.service.destroy(resource.id, ALICE)
            wait_for_resource_state(fixed, resource.id, {"destroyed"})
