"""A test kit for action authors: a journal in memory, and contexts built in one call.

The platform's own action tests use it, and so can a third-party package's (the way
Procrastinate ships an in-memory connector). It replaces only the platform's bookkeeping; the
action still talks to its real backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from goldenpath.actions.base import ActionInputs, Context
from goldenpath.settings import BackendSettings


class MemoryJournal:
    """Keeps log lines, and checkpoints as the store does: the first value stored wins, so a
    second `apply` with the same journal behaves like a step retried after a crash."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.values: dict[str, str] = {}

    def log(self, message: str, level: str) -> None:
        self.lines.append(message)

    def checkpoint(self, key: str, produce: Callable[[], str]) -> str:
        if key not in self.values:
            self.values[key] = produce()
        return self.values[key]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def action_context(
    inputs: ActionInputs,
    backends: Mapping[str, BackendSettings],
    *,
    journal: MemoryJournal | None = None,
    resource_id: str = "r-1",
    owner_team: str = "payments",
    requested_by: str = "alice",
    template_name: str = "test-template",
    request_id: str = "req-1",
    step_id: str = "step",
    template_dir: Path | None = None,
    data_dir: Path | None = None,
    **extra: Any,
) -> Context[Any]:
    """A context as the runner would build it, with a memory journal."""
    return Context(
        inputs=inputs,
        backends=backends,
        owner_team=owner_team,
        requested_by=requested_by,
        template_name=template_name,
        template_dir=template_dir,
        data_dir=data_dir,
        request_id=request_id,
        step_id=step_id,
        resource_id=resource_id,
        journal=journal if journal is not None else MemoryJournal(),
        **extra,
    )
