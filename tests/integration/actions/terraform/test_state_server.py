"""The state server speaks Terraform's http backend protocol, to its own run's credential only,
with the sealed store on the real PostgreSQL behind it."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest

from goldenpath.actions.terraform.state_server import PATH_PREFIX, StateServer
from goldenpath.store.action_state import SealedStateStore

STATE = json.dumps({"version": 4, "serial": 1, "lineage": "l-1", "outputs": {}}).encode()
WS = PATH_PREFIX + "orders"
LOCK = {"ID": "lock-1", "Operation": "OperationTypeApply", "Who": "bob@host", "Version": "1"}


@pytest.fixture
def server(state_store: SealedStateStore) -> Iterator[StateServer]:
    with StateServer(state_store, "orders", who="test") as running:
        yield running


@pytest.fixture
def client(server: StateServer) -> Iterator[httpx.Client]:
    env = server.environment()
    auth = (env["TF_HTTP_USERNAME"], env["TF_HTTP_PASSWORD"])
    with httpx.Client(base_url=origin(server), auth=auth) as http:
        yield http


def origin(server: StateServer) -> str:
    return server.address.removesuffix(WS)


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()


def test_state_round_trips_and_is_stored_sealed(
    client: httpx.Client, state_store: SealedStateStore
) -> None:
    assert client.get(WS).status_code == 404
    assert client.post(WS, content=STATE, headers={"Content-MD5": md5(STATE)}).status_code == 200
    fetched = client.get(WS)
    assert (fetched.status_code, fetched.content) == (200, STATE)
    assert state_store.read("orders") == STATE
    assert client.delete(WS).status_code == 200
    assert client.get(WS).status_code == 404


@pytest.mark.parametrize("auth", [None, ("goldenpath", "not-the-password"), ("someone", "x")])
def test_only_the_runs_credential_is_served(
    server: StateServer, auth: tuple[str, str] | None
) -> None:
    with httpx.Client(base_url=origin(server), auth=auth) as stranger:
        for method in ("GET", "POST", "DELETE", "LOCK", "UNLOCK"):
            answer = stranger.request(method, WS, content=STATE)
            assert answer.status_code == 401, method
            assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_another_workspace_is_not_served(client: httpx.Client, server: StateServer) -> None:
    assert client.get(PATH_PREFIX + "payments").status_code == 404
    assert client.get(WS + "/../payments").status_code == 404


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b"not json", {}, "the state is not JSON"),
        (b"[1, 2]", {}, "the state is not a JSON object"),
        (STATE, {"Content-MD5": md5(b"other")}, "Content-MD5 does not match the body"),
    ],
)
def test_a_bad_state_is_refused_and_nothing_is_stored(
    client: httpx.Client,
    state_store: SealedStateStore,
    body: bytes,
    headers: dict[str, str],
    message: str,
) -> None:
    refused = client.post(WS, content=body, headers=headers)
    assert (refused.status_code, refused.json()) == (400, {"error": message})
    assert state_store.read("orders") is None


def test_a_held_lock_is_answered_423_with_its_info_and_guards_the_state(
    client: httpx.Client, server: StateServer, state_store: SealedStateStore
) -> None:
    assert client.request("LOCK", WS, json=LOCK).status_code == 200
    again = client.request("LOCK", WS, json={**LOCK, "ID": "lock-2"})
    assert (again.status_code, again.json()) == (423, LOCK)
    # A write must carry the holder's lock id.
    assert client.post(WS, content=STATE, params={"ID": "lock-2"}).status_code == 423
    assert client.post(WS, content=STATE, params={"ID": "lock-1"}).status_code == 200
    assert client.request("UNLOCK", WS, json={**LOCK, "ID": "lock-2"}).status_code == 423
    assert client.request("UNLOCK", WS, json=LOCK).status_code == 200
    assert state_store.holding("orders", "state") is None
    assert client.request("LOCK", WS, json={**LOCK, "ID": "lock-2"}).status_code == 200


def test_locks_go_when_the_server_stops(state_store: SealedStateStore) -> None:
    with StateServer(state_store, "orders", who="test") as running:
        env = running.environment()
        auth = (env["TF_HTTP_USERNAME"], env["TF_HTTP_PASSWORD"])
        with httpx.Client(base_url=origin(running), auth=auth) as http:
            assert http.request("LOCK", WS, json=LOCK).status_code == 200
        assert state_store.holding("orders", "state") is not None
    assert state_store.holding("orders", "state") is None
