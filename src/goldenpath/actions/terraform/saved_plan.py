"""Plan once: the plan judged at submission is the plan the run applies, when nothing it was
made from has changed.

A submission plans the module to judge it (``plan -out``, ``show -json``). It keeps that saved
plan and its ``show -json`` document, sealed in the platform's state store, under the
workspace with a digest of everything the plan came from: the module copy's files (with the
rendered variables), the var files, the backend config, the Terraform binary, and the
workspace's state as read *before* planning. The run, holding the workspace, computes the same
digest; when it matches and the plan is at most `MAX_AGE_SECONDS` old, it judges the kept
document again with the guardrails as they are now and applies exactly that plan. Anything
else (another state, other inputs, a newer template, an older plan) plans afresh, as before.
A kept plan is taken once: it is deleted when the run reads it, whatever follows.

Only for the state the platform serves (``state: platform``): the saved plan then names the
``http`` backend, whose address and credential come from the run's environment. Terraform
itself refuses a saved plan whose state has moved on (``Saved plan is stale``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from goldenpath.actions.state_store import StateStore
from goldenpath.actions.terraform.cli import TerraformCli
from goldenpath.actions.terraform.workspace import fingerprint

KEY_PREFIX = "saved-plan:"
# A plan older than this is planned again: the real infrastructure may have moved since.
MAX_AGE_SECONDS = 600.0


def digest(cli: TerraformCli, store: StateStore, workspace: str) -> str:
    """What a plan in ``cli``'s working copy is made from, with the workspace's state as it is
    now: taken before init and the plan add to the copy, and before the plan reads the state."""
    state = store.read(workspace)
    parts = [
        *(f"{name}={value}" for name, value in sorted(cli.backend_config.items())),
        *(f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}" for path in cli.var_files),
        "state:" + (hashlib.sha256(state).hexdigest() if state is not None else "none"),
    ]
    return fingerprint(cli.cwd, cli.binary, parts)


def keep(
    store: StateStore, workspace: str, made_from: str, plan: bytes, document: Mapping[str, Any]
) -> None:
    """Keep a judged plan for the run of this submission (replacing any other one)."""
    store.delete_older_than(KEY_PREFIX, MAX_AGE_SECONDS)
    entry = {
        "digest": made_from,
        "planned_at": time.time(),
        "plan": base64.b64encode(plan).decode(),
        "document": dict(document),
    }
    store.write(_key(workspace), json.dumps(entry).encode())


def take(
    store: StateStore, workspace: str, made_from: str, plan_file: Path, log: Callable[[str], None]
) -> dict[str, Any] | None:
    """The kept plan's ``show -json`` document, its plan written to ``plan_file``, when it was
    made from exactly ``made_from`` recently; else None (and ``log`` says why, when a plan was
    kept). Either way it is no longer kept."""
    key = _key(workspace)
    stored = store.read(key)
    if stored is None:
        return None
    store.delete(key)
    entry = json.loads(stored)
    if entry.get("digest") != made_from:
        log(
            "planning again: the plan kept at submission was made from another state of the "
            "workspace or other inputs"
        )
        return None
    if time.time() - float(entry.get("planned_at", 0)) > MAX_AGE_SECONDS:
        log(f"planning again: the plan kept at submission is over {MAX_AGE_SECONDS:.0f} s old")
        return None
    plan_file.write_bytes(base64.b64decode(entry["plan"]))
    document = entry["document"]
    return document if isinstance(document, dict) else None


def _key(workspace: str) -> str:
    # Keys hold 63 characters, as workspace names may: a workspace's own digest fits beside.
    return KEY_PREFIX + hashlib.sha256(workspace.encode()).hexdigest()[:40]
