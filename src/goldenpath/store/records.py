"""Domain values read from the store: requests, steps, log lines, resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled", "rejected"})


@dataclass(frozen=True)
class LogLine:
    id: int
    step_id: str
    at: datetime
    level: str
    message: str


@dataclass(frozen=True)
class StepRecord:
    step_id: str
    position: int
    name: str
    action: str
    status: str
    input: dict[str, Any] | list[dict[str, Any]] | None  # a list for a step with `each`
    outputs: dict[str, Any] | None
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    secret_outputs: bytes | None = field(default=None, repr=False)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


@dataclass(frozen=True)
class RequestRecord:
    id: str
    template_name: str
    template_version: str
    template_snapshot: dict[str, Any]
    parameters: dict[str, Any]
    status: str
    requested_by: str
    owner_team: str
    plan: dict[str, Any]
    verdict: dict[str, Any] | None
    outputs: dict[str, Any] | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps: tuple[StepRecord, ...] = ()
    secret_outputs: bytes | None = field(default=None, repr=False)
    is_exception: bool = False
    justification: str | None = None
    decided_by: str | None = None
    decision_comment: str | None = None
    decided_at: datetime | None = None
    secret_parameters: bytes | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def kind(self) -> str:
        """What the request does: ``create``, ``upgrade`` or ``day2:<action>``."""
        day2 = self.plan.get("day2")
        if day2:
            return f"day2:{day2['action']}"
        return "upgrade" if self.plan.get("upgrade") else "create"

    def step(self, step_id: str) -> StepRecord | None:
        return next((s for s in self.steps if s.step_id == step_id), None)


@dataclass(frozen=True)
class ResourceRecord:
    id: str
    kind: str
    name: str
    backend: str
    owner_team: str
    template_name: str
    template_version: str
    request_id: str
    step_id: str
    config: dict[str, Any]
    outputs: dict[str, Any] | None
    state: str
    monthly_cost_usd: float | None
    expires_at: datetime | None
    created_at: datetime
    destroyed_at: datetime | None
    error: str | None
    expiry_warned_at: datetime | None = None
