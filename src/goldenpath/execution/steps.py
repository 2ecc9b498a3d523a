"""Small pieces of the runner's work that need no state: step inputs as data, the
requester of a stored request, and watching for a cancellation while a step runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

from goldenpath.actions.base import ActionInputs, ResourceRef
from goldenpath.execution.planner import Requester
from goldenpath.store.records import RequestRecord, ResourceRecord

logger = logging.getLogger(__name__)
CANCEL_POLL_SECONDS = 1.0


@contextmanager
def watch_for_cancel(asked: Callable[[], bool], cancelled: threading.Event) -> Iterator[None]:
    """Set ``cancelled`` as soon as ``asked()`` says the request was cancelled."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(CANCEL_POLL_SECONDS):
            try:
                if asked():
                    cancelled.set()
                    return
            except Exception:  # a failed poll is retried at the next tick
                logger.debug("cancellation poll failed", exc_info=True)

    watcher = threading.Thread(target=watch, name="cancel-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(timeout=5)


# The sealed checkpoint of a step's inputs, as the step ran them (observe and destroy read it).
INPUT_CHECKPOINT = "_input"


def resource_ref(resource: ResourceRecord) -> ResourceRef:
    """What an action is handed of a catalogued resource."""
    return ResourceRef(
        id=resource.id,
        type=resource.kind,
        name=resource.name,
        backend=resource.backend,
        config=resource.config,
        outputs=resource.outputs or {},
    )


def requester_of(request: RequestRecord) -> Requester:
    roles = tuple(request.plan.get("requested_roles") or ("developer",))
    return Requester(user=request.requested_by, team=request.owner_team, roles=roles)


def planned_cost(request: RequestRecord, step_id: str, fallback: float | None) -> float | None:
    """What the submitted plan priced for everything this step makes (a Terraform workspace's
    instances, say), booked on the step's catalogued resource; it may be the template's cost."""
    costs = [
        resource.get("monthly_cost_usd")
        for resource in request.plan.get("resources", [])
        if resource.get("step") == step_id
    ]
    if not costs or all(cost is None for cost in costs):
        return fallback
    return round(sum(float(cost or 0.0) for cost in costs), 2)


def revealed(inputs: ActionInputs) -> Any:
    """The inputs as JSON data with secret fields in clear (for the sealed checkpoint only)."""
    return plain(inputs.model_dump(mode="python"))


def plain(value: Any) -> Any:
    if isinstance(value, SecretStr | SecretBytes):
        secret = value.get_secret_value()
        return secret.decode() if isinstance(secret, bytes) else secret
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def secret_inputs(inputs: ActionInputs) -> set[str]:
    """Values of the inputs declared secret (SecretStr): masked wherever they might show."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.add(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for item in value.__dict__.values():
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(inputs)
    return found


def expiry(request: RequestRecord) -> datetime | None:
    """When what this request makes expires, counted from now (its creation)."""
    seconds = request.plan.get("ttl_seconds")
    return None if seconds is None else datetime.now(UTC) + timedelta(seconds=int(seconds))
