"""Key rotation: after `reseal_all`, every stored secret opens with the new key alone."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

from goldenpath.app import Platform
from goldenpath.secretbox import SecretBox
from goldenpath.store.reseal import reseal_all
from tests.conftest import ADMIN, BackgroundWorker, member, wait_for_request


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_rotation_then_reseal_then_drop_the_old_key(
    make_platform: Callable[..., Platform], unique_name: Callable[[str], str]
) -> None:
    old, new = key(), key()
    alice = member("alice", "payments")
    before = make_platform(secret_key=old)
    with BackgroundWorker(before):
        request = before.service.submit(
            "slow-database", {"name": unique_name("rot"), "pause": 0}, alice
        )
        done = wait_for_request(before, request.id)
    secrets = before.service.reveal_secrets(done.id, alice)

    rotated = make_platform(secret_key=f"{new},{old}")
    assert rotated.service.reveal_secrets(done.id, alice) == secrets  # old key still opens
    counts = reseal_all(rotated.database, rotated.box)
    assert counts["gp_requests.secret_outputs"] == 1
    assert counts["gp_checkpoints.value"] >= 3

    after = make_platform(secret_key=new)
    assert after.service.reveal_secrets(done.id, alice) == secrets
    assert isinstance(after.box, SecretBox)
    [resource] = after.service.resources(ADMIN)
    with BackgroundWorker(after):  # destroy reads the sealed step input: new key only
        after.service.destroy(resource.id, alice)
        from tests.conftest import wait_for_resource_state

        assert wait_for_resource_state(after, resource.id, {"destroyed", "failed"}) == "destroyed"


def test_reseal_covers_terraform_state(make_platform: Callable[..., Platform]) -> None:
    old, new = key(), key()
    state = b'{"version": 4, "outputs": {"api_key": {"value": "k-0123456789", "sensitive": true}}}'
    before = make_platform(secret_key=old)
    assert before.service.state_store is not None
    before.service.state_store.write("svc-checkout", state)

    rotated = make_platform(secret_key=f"{new},{old}")
    assert reseal_all(rotated.database, rotated.box)["gp_terraform_states.state"] == 1

    after = make_platform(secret_key=new)
    assert after.service.state_store is not None
    assert after.service.state_store.read("svc-checkout") == state
