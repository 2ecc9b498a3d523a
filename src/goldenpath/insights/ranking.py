"""What to build next: the ticket types no golden path replaces, ranked by
volume x median wait (days) x handling effort (hours); and the guardrails that most often send
people back to tickets (denials and exceptions requested, per guardrail)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from goldenpath.insights.bill import DAY, BillInputs, handling_seconds
from goldenpath.insights.statistics import UNCLASSIFIED, PathRun, TicketType


@dataclass(frozen=True)
class Candidate:
    ticket_type: TicketType
    wait_days: float
    handling_hours: float
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.ticket_type.as_dict(),
            "wait_days": self.wait_days,
            "handling_hours": self.handling_hours,
            "score": self.score,
            "formula": f"{self.ticket_type.count} tickets x {self.wait_days:.2f} d x "
            f"{self.handling_hours:.2f} h = {self.score:.1f}",
        }


def candidates(types: Sequence[TicketType], inputs: BillInputs, top: int = 3) -> list[Candidate]:
    ranked = []
    for ticket_type in types:
        if ticket_type.path is not None or ticket_type.name == UNCLASSIFIED:
            continue
        wait = (ticket_type.median_seconds or 0.0) / DAY
        handling = handling_seconds(ticket_type, inputs)[0] / 3600
        ranked.append(Candidate(ticket_type, wait, handling, ticket_type.count * wait * handling))
    ranked.sort(key=lambda c: (-c.score, -c.ticket_type.count, c.ticket_type.name))
    return ranked[:top]


@dataclass(frozen=True)
class GuardrailFriction:
    policy: str
    denied: int
    exceptions: int

    def as_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "denied": self.denied, "exceptions": self.exceptions}


def guardrail_friction(runs: Sequence[PathRun]) -> list[GuardrailFriction]:
    denied: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    for run in runs:
        denied.update(run.denied)
        exceptions.update(run.exceptions)
    policies = set(denied) | set(exceptions)
    found = [GuardrailFriction(p, denied[p], exceptions[p]) for p in policies]
    return sorted(found, key=lambda g: (-(g.denied + g.exceptions), g.policy))
