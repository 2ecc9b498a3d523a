"""The two sides of the comparison: ticket types (count, median and p90 created → resolved,
handling effort) and golden paths on the platform (requests, median and p95 submit →
succeeded, share with no human touch, approval wait, failure rate, exceptions and denials per
guardrail).

Percentiles interpolate linearly between the two nearest ranks (numpy's default, "inclusive"):
p of sorted values v[0..n-1] is v[k] + (v[k+1] - v[k]) * f where k + f = (n - 1) * p.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from goldenpath.store.tickets import StoredTicket

UNCLASSIFIED = "unclassified"


def percentile(values: Sequence[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * fraction
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 0.5)


@dataclass(frozen=True)
class TicketType:
    """Tickets that ask for the same thing: those a golden path replaces (``path`` set, named
    by its ``spec.replaces``), or a candidate type found by clustering (``path`` None)."""

    name: str
    path: str | None
    count: int
    resolved: int
    median_seconds: float | None
    p90_seconds: float | None
    worklog_seconds: float | None  # median time logged per ticket, when the export has worklogs
    examples: tuple[tuple[str, str], ...]  # (key, title), the first few
    first_created: datetime | None = None
    last_created: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "count": self.count,
            "resolved": self.resolved,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
            "worklog_seconds": self.worklog_seconds,
            "examples": [{"key": k, "title": t} for k, t in self.examples],
        }


def type_of(ticket: StoredTicket, replaces: Mapping[str, str]) -> tuple[str, str | None]:
    """(type name, golden path) of a ticket: an admin's override first, then its class."""
    chosen = ticket.override
    if chosen is not None:
        return (replaces[chosen], chosen) if chosen in replaces else (chosen, None)
    if ticket.path is not None and ticket.path in replaces:
        return replaces[ticket.path], ticket.path
    return ticket.candidate or UNCLASSIFIED, None


def ticket_types(
    tickets: Iterable[StoredTicket], replaces: Mapping[str, str], examples: int = 3
) -> list[TicketType]:
    """Per type, most tickets first. ``replaces`` maps golden path names to their type name."""
    groups: dict[tuple[str, str | None], list[StoredTicket]] = {}
    for ticket in tickets:
        groups.setdefault(type_of(ticket, replaces), []).append(ticket)
    found = []
    for (name, path), members in groups.items():
        leads = [t.lead_seconds for t in members if t.lead_seconds is not None]
        logged = [float(t.worklog_seconds) for t in members if t.worklog_seconds]
        found.append(
            TicketType(
                name=name,
                path=path,
                count=len(members),
                resolved=len(leads),
                median_seconds=median(leads),
                p90_seconds=percentile(leads, 0.9),
                worklog_seconds=median(logged),
                examples=tuple((t.key, t.title) for t in members[:examples]),
                first_created=min(t.created for t in members),
                last_created=max(t.created for t in members),
            )
        )
    return sorted(found, key=lambda t: (-t.count, t.name))


@dataclass(frozen=True)
class PathRun:
    """A golden path's requests on the platform, and what became of them."""

    name: str
    requests: int
    succeeded: int
    failed: int
    rejected: int
    median_lead_seconds: float | None
    p95_lead_seconds: float | None
    no_touch_share: float | None  # of succeeded requests: no approval step at all
    median_approval_wait_seconds: float | None
    failure_rate: float | None  # failed / (succeeded + failed)
    exceptions: dict[str, int] = field(default_factory=dict)  # per guardrail (policy)
    denied: dict[str, int] = field(default_factory=dict)
    leads: tuple[tuple[datetime, float], ...] = ()  # (submitted, lead seconds) of successes
    submitted: tuple[datetime, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "requests": self.requests,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "rejected": self.rejected,
            "median_lead_seconds": self.median_lead_seconds,
            "p95_lead_seconds": self.p95_lead_seconds,
            "no_touch_share": self.no_touch_share,
            "median_approval_wait_seconds": self.median_approval_wait_seconds,
            "failure_rate": self.failure_rate,
            "exceptions": self.exceptions,
            "denied": self.denied,
        }


def path_runs(requests: Iterable[Mapping[str, Any]]) -> list[PathRun]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for request in requests:
        groups.setdefault(str(request["template_name"]), []).append(request)
    return [_path_run(name, rows) for name, rows in sorted(groups.items())]


def _path_run(name: str, rows: list[Mapping[str, Any]]) -> PathRun:
    succeeded = [r for r in rows if r["status"] == "succeeded" and r["finished_at"]]
    failed = [r for r in rows if r["status"] in ("failed", "rollback_failed")]
    rejected = [r for r in rows if r["status"] == "rejected"]
    leads = [
        (r["created_at"], (r["finished_at"] - r["created_at"]).total_seconds()) for r in succeeded
    ]
    waits = [(r["decided_at"] - r["created_at"]).total_seconds() for r in rows if r["decided_at"]]
    untouched = [r for r in succeeded if r["decided_at"] is None]
    exceptions: Counter[str] = Counter()
    denied: Counter[str] = Counter()
    for request in rows:
        policies = {str(v.get("policy")) for v in (request["verdict"] or {}).get("violations", [])}
        if request["is_exception"]:
            exceptions.update(policies)
        elif request["status"] == "rejected":
            denied.update(policies)
    finished = len(succeeded) + len(failed)
    seconds = [s for _, s in leads]
    return PathRun(
        name=name,
        requests=len(rows),
        succeeded=len(succeeded),
        failed=len(failed),
        rejected=len(rejected),
        median_lead_seconds=median(seconds),
        p95_lead_seconds=percentile(seconds, 0.95),
        no_touch_share=len(untouched) / len(succeeded) if succeeded else None,
        median_approval_wait_seconds=median(waits),
        failure_rate=len(failed) / finished if finished else None,
        exceptions=dict(exceptions.most_common()),
        denied=dict(denied.most_common()),
        leads=tuple(leads),
        submitted=tuple(r["created_at"] for r in rows),
    )
