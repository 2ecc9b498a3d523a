"""The permission matrix over HTTP: each endpoint, called by each kind of user, on things their
team owns or not, answers what the permission rules say (and hides what one may not see)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, NAME_PREFIX, Server, make_user

ACTORS = ("dev_a", "dev_b", "lead_a", "admin")


@dataclass(frozen=True)
class World:
    tokens: dict[str, str]
    done: str  # a succeeded request of team-a (by dev_a)
    resource: str  # its resource
    new_pending: Callable[[], str]  # a fresh request of team-a waiting for approval


def call(server: Server, token: str, method: str, path: str, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, f"{server.url}{path}", headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    suffix = secrets.token_hex(3)
    tokens = {
        "dev_a": make_user(server, f"dev-a-{suffix}", f"team-a-{suffix}"),
        "dev_b": make_user(server, f"dev-b-{suffix}", f"team-b-{suffix}"),
        "lead_a": make_user(server, f"lead-a-{suffix}", f"team-a-{suffix}", "approver"),
        "admin": ADMIN_TOKEN,
    }
    # team-a's budget is tiny: each of its requests waits for a human.
    budget = call(
        server,
        ADMIN_TOKEN,
        "POST",
        "/api/v1/teams",
        json={"name": f"team-a-{suffix}", "monthly_budget_usd": 1},
    )
    assert budget.status_code == 201, budget.text

    def new_pending() -> str:
        body = {
            "template": "postgres-database",
            "parameters": {"name": f"{NAME_PREFIX}{secrets.token_hex(4)}"},
        }
        made = call(server, tokens["dev_a"], "POST", "/api/v1/requests", json=body)
        assert made.status_code == 202 and made.json()["status"] == "pending_approval", made.text
        return str(made.json()["id"])

    done = new_pending()
    approved = call(
        server, tokens["lead_a"], "POST", f"/api/v1/requests/{done}/approve", json={"comment": "ok"}
    )
    assert approved.status_code == 200, approved.text
    deadline = time.monotonic() + 60
    while call(server, tokens["dev_a"], "GET", f"/api/v1/requests/{done}").json()["status"] != (
        "succeeded"
    ):
        assert time.monotonic() < deadline, "request did not succeed"
        time.sleep(0.2)
    [resource] = [
        r
        for r in call(server, tokens["dev_a"], "GET", "/api/v1/resources").json()["items"]
        if r["request_id"] == done
    ]
    return World(tokens, done, resource["id"], new_pending)


def statuses(
    server: Server, world: World, method: str, path: str, **kwargs: object
) -> dict[str, int]:
    return {
        actor: call(server, world.tokens[actor], method, path.format(w=world), **kwargs).status_code
        for actor in ACTORS
    }


# endpoint → expected status for (dev_a, dev_b, lead_a, admin)
READS = [
    ("GET", "/api/v1/requests/{w.done}", (200, 404, 200, 200)),
    ("GET", "/api/v1/requests/{w.done}/logs", (200, 404, 200, 200)),
    ("POST", "/api/v1/requests/{w.done}/secrets/reveal", (200, 404, 200, 403)),
    ("GET", "/api/v1/resources/{w.resource}", (200, 404, 200, 200)),
    ("POST", "/api/v1/resources/{w.resource}/secrets/reveal", (200, 404, 200, 403)),
    ("GET", "/api/v1/users", (403, 403, 403, 200)),
    ("GET", "/api/v1/audit/events", (403, 403, 403, 200)),
    ("GET", "/api/v1/audit/verify", (403, 403, 403, 200)),
    ("GET", "/api/v1/templates", (200, 200, 200, 200)),
    ("GET", "/api/v1/me", (200, 200, 200, 200)),
]


@pytest.mark.parametrize(
    ("method", "path", "expected"), READS, ids=[f"{m} {p}" for m, p, _ in READS]
)
def test_reads(
    server: Server, world: World, method: str, path: str, expected: tuple[int, ...]
) -> None:
    assert statuses(server, world, method, path) == dict(zip(ACTORS, expected, strict=True))


def test_approving_is_for_approvers_of_the_team_never_the_requester(
    server: Server, world: World
) -> None:
    found = {
        actor: call(
            server,
            world.tokens[actor],
            "POST",
            f"/api/v1/requests/{world.new_pending()}/reject",
            json={"comment": "matrix"},
        ).status_code
        for actor in ACTORS
    }
    assert found == {"dev_a": 403, "dev_b": 404, "lead_a": 200, "admin": 200}


def test_cancelling_is_for_the_team(server: Server, world: World) -> None:
    found = {
        actor: call(
            server, world.tokens[actor], "POST", f"/api/v1/requests/{world.new_pending()}/cancel"
        ).status_code
        for actor in ACTORS
    }
    assert found == {"dev_a": 200, "dev_b": 404, "lead_a": 200, "admin": 200}


def test_listings_hold_only_the_actors_teams(server: Server, world: World) -> None:
    def ids(actor: str, path: str) -> set[str]:
        return {
            item["id"] for item in call(server, world.tokens[actor], "GET", path).json()["items"]
        }

    assert world.done in ids("dev_a", "/api/v1/requests")
    assert world.done not in ids("dev_b", "/api/v1/requests")
    assert world.resource in ids("lead_a", "/api/v1/resources")
    assert world.resource not in ids("dev_b", "/api/v1/resources")
    assert world.resource in ids("admin", "/api/v1/resources")


def test_destroying_is_for_the_team(server: Server, world: World) -> None:
    path = f"/api/v1/resources/{world.resource}"
    assert call(server, world.tokens["dev_b"], "DELETE", path).status_code == 404
    assert call(server, world.tokens["dev_a"], "DELETE", path).status_code == 202
