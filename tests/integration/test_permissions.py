"""The permission matrix: every use case by role and ownership, on a real platform.

Team A owns a request (made by dev_a) waiting for approval, and a succeeded request with a
resource. Each row says what each kind of user may do with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from goldenpath.app import Platform
from goldenpath.errors import AccessDenied, RequestNotFound, ResourceNotFound
from goldenpath.identity.actor import Actor
from tests.conftest import BackgroundWorker, wait_for_request

DEV_A = Actor("dev-a", frozenset({("team-a", "developer")}))
DEV_B = Actor("dev-b", frozenset({("team-b", "developer")}))
APPROVER_A = Actor("lead-a", frozenset({("team-a", "approver")}))
ADMIN = Actor("root", is_admin=True)
READ_ONLY_A = Actor("bot-a", frozenset({("team-a", "developer")}), scopes=frozenset({"read"}))
ACTORS = {
    "dev_a": DEV_A,
    "dev_b": DEV_B,
    "approver_a": APPROVER_A,
    "admin": ADMIN,
    "read_only_a": READ_ONLY_A,
}

OK, DENIED, HIDDEN = "ok", "denied", "hidden"


@dataclass(frozen=True)
class World:
    platform: Platform
    new_waiting: Callable[[], str]  # a new request of team A by dev-a, pending approval
    done: str  # a succeeded request of team A by dev-a
    resource: str  # its resource


@pytest.fixture
def world(make_platform: Callable[..., Platform], unique_name: Callable[[str], str]) -> World:
    platform = make_platform(teams={"team-a": {"monthly_budget_usd": 1}})
    waiting = platform.service.submit("postgres-database", {"name": unique_name("wait")}, DEV_A)
    assert waiting.status == "pending_approval"  # over budget: a human decides
    with BackgroundWorker(platform):
        platform.service.approve(waiting.id, APPROVER_A, "ok")
        wait_for_request(platform, waiting.id)
        done = waiting
        pending = platform.service.submit("postgres-database", {"name": unique_name("p")}, DEV_A)
    [resource] = platform.service.resources(DEV_A)
    assert pending.status == "pending_approval"

    def new_waiting() -> str:
        name = unique_name("wait")
        return platform.service.submit("postgres-database", {"name": name}, DEV_A).id

    return World(platform, new_waiting, done.id, resource.id)


def _outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except (RequestNotFound, ResourceNotFound):
        return HIDDEN
    except AccessDenied:
        return DENIED
    return OK


# (use case, what it does, expected per actor: dev_a, dev_b, approver_a, admin, read_only_a)
MATRIX: list[tuple[str, Callable[[World, Actor], Any], tuple[str, str, str, str, str]]] = [
    (
        "read a request",
        lambda w, a: w.platform.service.request(w.done, a),
        (OK, HIDDEN, OK, OK, OK),
    ),
    ("read its logs", lambda w, a: w.platform.service.logs(w.done, a), (OK, HIDDEN, OK, OK, OK)),
    (
        "reveal its secrets",
        lambda w, a: w.platform.service.reveal_secrets(w.done, a),
        (OK, HIDDEN, OK, DENIED, DENIED),
    ),
    (
        "read a resource",
        lambda w, a: w.platform.service.resource(w.resource, a),
        (OK, HIDDEN, OK, OK, OK),
    ),
    (
        "approve own team's waiting request",
        lambda w, a: w.platform.service.approve(w.new_waiting(), a),
        (DENIED, HIDDEN, OK, OK, DENIED),
    ),
    (
        "run a template open to all teams",
        lambda w, a: w.platform.service.dry_run("postgres-database", {"name": "gpt_matrix"}, a),
        (OK, OK, OK, OK, DENIED),
    ),
    (
        "run a template only team 'platform' may run",
        lambda w, a: w.platform.service.dry_run("restricted-path", {}, a),
        (DENIED, DENIED, DENIED, DENIED, DENIED),
    ),
    (
        "create a user",
        lambda w, a: w.platform.directory.create_user(a, f"u-{a.user}"),
        (DENIED, DENIED, DENIED, OK, DENIED),
    ),
    (
        "read the audit log",
        lambda w, a: w.platform.audit.events(a),
        (DENIED, DENIED, DENIED, OK, DENIED),
    ),
]


def test_matrix(world: World) -> None:
    """One world, every row: the whole table is compared, so a failure shows every cell."""
    found: dict[str, dict[str, str]] = {}
    for use_case, call, _ in MATRIX:
        found[use_case] = {
            name: _outcome(lambda a=actor, c=call: c(world, a)) for name, actor in ACTORS.items()
        }
    expected = {use_case: dict(zip(ACTORS, row, strict=True)) for use_case, _, row in MATRIX}
    assert found == expected


def test_listings_show_only_the_actors_teams(world: World) -> None:
    service = world.platform.service
    assert {r.owner_team for r in service.requests(DEV_A)} == {"team-a"}
    assert service.requests(DEV_B) == []
    assert service.requests(DEV_B, team="team-a") == []
    assert service.resources(DEV_B) == []
    assert [r.id for r in service.resources(DEV_A)] == [world.resource]
    assert world.done in {r.id for r in service.requests(ADMIN)}


def test_destroy_is_for_the_owning_team(world: World) -> None:
    service = world.platform.service
    with pytest.raises(ResourceNotFound):
        service.destroy(world.resource, DEV_B)
    with pytest.raises(AccessDenied, match="scopes"):
        service.destroy(world.resource, READ_ONLY_A)
    with BackgroundWorker(world.platform):
        assert service.destroy(world.resource, DEV_A).state == "destroying"
        from tests.conftest import wait_for_resource_state

        wait_for_resource_state(world.platform, world.resource, {"destroyed"})


def test_a_developer_cannot_submit_for_another_team(world: World) -> None:
    with pytest.raises(AccessDenied, match="not a member of team 'team-b'"):
        world.platform.service.submit("postgres-database", {"name": "gpt_x"}, DEV_A, team="team-b")
