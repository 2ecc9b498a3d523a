"""terraform:apply under a timeout, a held state lock, and a lock left by a killed Terraform."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from goldenpath.actions.state_store import StateStore
from goldenpath.actions.terraform.action import TerraformApply
from goldenpath.errors import ActionError
from goldenpath.store.action_state import SealedStateStore
from tests.integration.actions.terraform.terraform_support import (
    MODULES,
    journal_of,
    make_context,
    processes_in,
    requires_terraform,
)

pytestmark = [requires_terraform, pytest.mark.slow]


@pytest.fixture
def context(database_url: str, tmp_path: Path, state_store: StateStore) -> Any:
    def make(**inputs: Any) -> Any:
        values = {"module": "slow", "workspace": "slow-one"}
        values.update(inputs)
        return make_context(
            state_url=database_url,
            data_dir=tmp_path / "data",
            guard=None,
            state_store=state_store,
            **values,
        )

    return make


def pause(seconds: int = 30) -> str:
    """A sleep length no other process on the machine has in its command line."""
    return f"{seconds}.{random.randrange(10**6):06d}"


def wait_for_text(path: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"'{text}' not in {path}:\n{path.read_text()}"
        time.sleep(0.1)


def test_a_timeout_stops_terraform_and_everything_it_started(context: Any, tmp_path: Path) -> None:
    ctx = context(variables={"name": "slow", "pause": pause()}, timeout_seconds=3)
    with pytest.raises(ActionError, match=r"terraform apply timed out after 3 s"):
        TerraformApply().apply(ctx)

    # Nothing it started lives on: not Terraform, not the provisioner's 30 s sleep.
    assert processes_in(tmp_path / "data") == []
    # Terraform stopped cleanly: the state is unlocked and the next run completes.
    done = TerraformApply().apply(context(variables={"name": "slow", "pause": "0"}))
    assert done == {"name": "slow"}


def test_a_held_state_lock_is_reported_after_a_few_retries(
    context: Any, tmp_path: Path, open_hand: Any, state_store: StateStore
) -> None:
    TerraformApply().apply(context(variables={"name": "slow", "pause": "0"}))
    operator = open_hand(MODULES / "slow", "slow-one", state_store)
    log = tmp_path / "hand.log"
    holder = operator.start(
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-replace=terraform_data.slow",
        "-var=name=slow",
        f"-var=pause={pause(90)}",  # holds the lock longer than the apply below may wait
        log=log,
    )
    try:
        wait_for_text(log, "Provisioning with 'local-exec'")
        ctx = context(variables={"name": "slow", "pause": "0"}, timeout_seconds=45)
        with pytest.raises(ActionError, match=r"state of workspace 'slow-one' is locked") as caught:
            TerraformApply().apply(ctx)
        assert "Who:" in caught.value.message
        assert "retrying in 1 s" in journal_of(ctx).text
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()


def test_a_plan_reads_the_real_state_while_an_apply_holds_its_lock(
    context: Any, tmp_path: Path, open_hand: Any, state_store: StateStore
) -> None:
    """What an upgrade's impact runs: a plan against the workspace's state takes no lock, so
    an apply holding it (longer than the plan may wait) neither blocks nor fails it."""
    TerraformApply().apply(context(variables={"name": "slow", "pause": "0"}))
    operator = open_hand(MODULES / "slow", "slow-one", state_store)
    log = tmp_path / "hand.log"
    # An operator's apply waiting for its "yes": it holds the state lock, changes nothing.
    with log.open("wb") as out:
        holder = subprocess.Popen(
            ["terraform", "apply", "-no-color", "-var=name=held"],
            cwd=operator.folder,
            env=operator.env,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_text(log, "Enter a value")
        ctx = context(variables={"name": "renamed", "pause": "0"}, timeout_seconds=45)
        [workspace, *changed] = TerraformApply().plan(ctx)
        # Planned against the state there is (not an empty one): an existing resource changes.
        assert workspace.config["plan"]["changes"] == {"terraform_data.slow": "change"}
        assert [c.name for c in changed] == ["terraform_data-slow"]
        # The lock is held all along: an apply (which takes it) is refused meanwhile.
        with pytest.raises(ActionError, match=r"state of workspace 'slow-one' is locked"):
            TerraformApply().apply(ctx)
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.communicate()


def test_a_lock_left_by_a_killed_terraform_does_not_block_the_next_apply(
    context: Any, tmp_path: Path, open_hand: Any, state_store: StateStore
) -> None:
    operator = open_hand(MODULES / "slow", "slow-one", state_store)
    log = tmp_path / "hand.log"
    crashed = operator.start(
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var=name=slow",
        f"-var=pause={pause()}",
        log=log,
    )
    wait_for_text(log, "Provisioning with 'local-exec'")
    os.killpg(crashed.pid, signal.SIGKILL)  # no chance to save state or unlock
    crashed.wait()
    held = state_store.holding("slow-one", "state")
    assert held is not None and held[1]["Who"].endswith("@" + socket.gethostname())

    # The operator's session ends: the lock its Terraform left goes with it, and this apply
    # gets it (a held lock fails after its retries).
    operator.close()
    outputs = TerraformApply().apply(context(variables={"name": "slow", "pause": "0"}))
    assert outputs == {"name": "slow"}


def test_a_lock_whose_holder_died_lapses_with_its_lease(
    context: Any, state_store: SealedStateStore
) -> None:
    """A worker killed mid-apply renews its leases no more: after `lease_seconds` its
    workspace and state locks may be taken over, and the next apply goes through."""
    state_store.lease_seconds = 2.0
    dead = {"ID": "d0d0", "Who": "worker@gone", "Operation": "OperationTypeApply"}
    assert state_store.acquire("slow-one", "operation", "dead-worker", dead) is None
    assert state_store.acquire("slow-one", "state", "dead-worker", dead) is None
    # While the lease runs, a second holder is refused and told who holds it.
    assert state_store.acquire("slow-one", "state", "someone", {"ID": "x"}) == dead

    ctx = context(variables={"name": "slow", "pause": "0"})
    assert TerraformApply().apply(ctx) == {"name": "slow"}
    assert "waiting for another operation on workspace 'slow-one'" in journal_of(ctx).text
    assert "worker@gone" in journal_of(ctx).text
    assert state_store.holding("slow-one", "state") is None
    assert state_store.holding("slow-one", "operation") is None


def test_a_platform_operation_keeps_an_operator_out_of_the_state(
    context: Any, tmp_path: Path, open_hand: Any, state_store: StateStore
) -> None:
    """While a platform operation holds the workspace, an operator's Terraform is refused
    with the operation's holder named, and gets the state once the operation is over."""
    TerraformApply().apply(context(variables={"name": "slow", "pause": "0"}))
    operator = open_hand(MODULES / "slow", "slow-one", state_store)
    assert state_store.acquire("slow-one", "operation", "a-run", {"Who": "alice (req-1)"}) is None
    refused = operator.run(
        "apply", "-auto-approve", "-input=false", "-no-color", "-var=name=slow", check=False
    )
    assert refused.returncode == 1
    assert "Error acquiring the state lock" in refused.stderr
    assert "alice (req-1)" in refused.stderr
    state_store.release("slow-one", "operation", "a-run")
    assert operator.state_list() == ["terraform_data.slow"]
