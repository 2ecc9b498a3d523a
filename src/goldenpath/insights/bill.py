"""The TicketOps bill: what the golden paths saved, with every input shown.

For a golden path P whose ticket type T had a median wait W (created → resolved):
- time saved   = Σ over P's succeeded requests r of max(0, W - lead(r))
- idle hours   = time saved in days x working hours per day   (the seed: 2 days ⇒ 16 h)
- idle cost    = idle hours x loaded hourly cost
- ops hours    = requests x handling effort of T (median worklog, else minutes per ticket)
- ops cost     = ops hours x loaded hourly cost
- share of ops time servicing requests = ticket handling hours / (headcount x hours per day x
  working days) over the ticket window; "after" counts only types no golden path replaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from goldenpath.insights.statistics import PathRun, TicketType

DAY = 86_400.0


@dataclass(frozen=True)
class BillInputs:
    hourly_cost: float = 75.0  # loaded cost of an hour of an engineer's time
    currency: str = "USD"
    hours_per_day: float = 8.0
    minutes_per_ticket: float = 30.0  # handling effort when the export has no worklogs
    ops_headcount: int = 3
    working_days_per_week: float = 5.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "hourly_cost": self.hourly_cost,
            "currency": self.currency,
            "hours_per_day": self.hours_per_day,
            "minutes_per_ticket": self.minutes_per_ticket,
            "ops_headcount": self.ops_headcount,
            "working_days_per_week": self.working_days_per_week,
        }


@dataclass(frozen=True)
class Figure:
    """A number with the formula that made it, inputs written in."""

    value: float
    unit: str
    formula: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "formula": self.formula}


def idle_hours(wait_days: float, inputs: BillInputs) -> Figure:
    """Waiting as idle salary hours: the seed's 2 days ⇒ 16 h at 8 h a day."""
    hours = wait_days * inputs.hours_per_day
    return Figure(hours, "h", f"{wait_days:g} d x {inputs.hours_per_day:g} h/d = {hours:g} h")


def handling_seconds(ticket_type: TicketType, inputs: BillInputs) -> tuple[float, str]:
    if ticket_type.worklog_seconds:
        return ticket_type.worklog_seconds, "median worklog"
    return inputs.minutes_per_ticket * 60, "configured minutes per ticket"


_FIGURES = ("saved_per_request", "saved_days", "idle_hours", "idle_cost", "ops_hours", "ops_cost")


@dataclass(frozen=True)
class PathSaving:
    path: str
    ticket_type: str
    requests: int
    baseline_seconds: float
    median_lead_seconds: float | None
    saved_per_request: Figure  # seconds
    saved_days: Figure
    idle_hours: Figure
    idle_cost: Figure
    ops_hours: Figure
    ops_cost: Figure

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ticket_type": self.ticket_type,
            "requests": self.requests,
            "baseline_seconds": self.baseline_seconds,
            "median_lead_seconds": self.median_lead_seconds,
            **{name: getattr(self, name).as_dict() for name in _FIGURES},
        }


def path_saving(run: PathRun, ticket_type: TicketType, inputs: BillInputs) -> PathSaving | None:
    baseline = ticket_type.median_seconds
    if baseline is None or not run.leads:
        return None
    n = len(run.leads)
    saved = sum(max(0.0, baseline - lead) for _, lead in run.leads)
    per_request = saved / n
    days = saved / DAY
    hours = days * inputs.hours_per_day
    cost = hours * inputs.hourly_cost
    handling, source = handling_seconds(ticket_type, inputs)
    ops = n * handling / 3600
    money = inputs.currency
    return PathSaving(
        path=run.name,
        ticket_type=ticket_type.name,
        requests=n,
        baseline_seconds=baseline,
        median_lead_seconds=run.median_lead_seconds,
        saved_per_request=Figure(
            per_request,
            "s",
            f"Σ max(0, {baseline:.0f} s baseline - lead) / {n} requests = {per_request:.0f} s",
        ),
        saved_days=Figure(days, "d", f"{saved:.0f} s / 86400 = {days:.2f} d"),
        idle_hours=Figure(
            hours, "h", f"{days:.2f} d x {inputs.hours_per_day:g} h/d = {hours:.1f} h"
        ),
        idle_cost=Figure(
            cost, money, f"{hours:.1f} h x {inputs.hourly_cost:g} {money}/h = {cost:.2f} {money}"
        ),
        ops_hours=Figure(
            ops, "h", f"{n} requests x {handling / 60:.0f} min ({source}) = {ops:.1f} h"
        ),
        ops_cost=Figure(
            ops * inputs.hourly_cost,
            money,
            f"{ops:.1f} h x {inputs.hourly_cost:g} {money}/h = {ops * inputs.hourly_cost:.2f} "
            f"{money}",
        ),
    )


@dataclass(frozen=True)
class Bill:
    inputs: BillInputs
    paths: tuple[PathSaving, ...]
    total_idle_hours: Figure
    total_cost: Figure
    total_ops_hours: Figure
    share_before: Figure | None
    share_after: Figure | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.as_dict(),
            "paths": [p.as_dict() for p in self.paths],
            "total_idle_hours": self.total_idle_hours.as_dict(),
            "total_cost": self.total_cost.as_dict(),
            "total_ops_hours": self.total_ops_hours.as_dict(),
            "share_before": self.share_before.as_dict() if self.share_before else None,
            "share_after": self.share_after.as_dict() if self.share_after else None,
        }


def make_bill(runs: Sequence[PathRun], types: Sequence[TicketType], inputs: BillInputs) -> Bill:
    by_path = {t.path: t for t in types if t.path is not None}
    savings = [
        s
        for s in (path_saving(r, by_path[r.name], inputs) for r in runs if r.name in by_path)
        if s is not None
    ]
    idle = sum(s.idle_hours.value for s in savings)
    ops = sum(s.ops_hours.value for s in savings)
    money = inputs.currency
    cost = sum(s.idle_cost.value + s.ops_cost.value for s in savings)
    parts = " + ".join(f"{s.idle_cost.value + s.ops_cost.value:.2f}" for s in savings) or "0"
    before, after = _shares(types, inputs)
    return Bill(
        inputs=inputs,
        paths=tuple(savings),
        total_idle_hours=Figure(
            idle, "h", " + ".join(f"{s.idle_hours.value:.1f}" for s in savings) or "0"
        ),
        total_cost=Figure(cost, money, f"idle + ops cost per path: {parts} = {cost:.2f} {money}"),
        total_ops_hours=Figure(
            ops, "h", " + ".join(f"{s.ops_hours.value:.1f}" for s in savings) or "0"
        ),
        share_before=before,
        share_after=after,
    )


def _shares(types: Sequence[TicketType], inputs: BillInputs) -> tuple[Figure | None, Figure | None]:
    starts = [t.first_created for t in types if t.first_created]
    ends = [t.last_created for t in types if t.last_created]
    if not starts or not ends or inputs.ops_headcount <= 0:
        return None, None
    weeks = max(1.0, (max(ends) - min(starts)).total_seconds() / (7 * DAY))
    capacity = inputs.ops_headcount * inputs.hours_per_day * inputs.working_days_per_week * weeks
    every = sum(t.count * handling_seconds(t, inputs)[0] / 3600 for t in types)
    left = sum(t.count * handling_seconds(t, inputs)[0] / 3600 for t in types if t.path is None)
    where = (
        f"{inputs.ops_headcount} people x {inputs.hours_per_day:g} h/d x "
        f"{inputs.working_days_per_week:g} d/wk x {weeks:.1f} wk = {capacity:.0f} h"
    )
    return (
        Figure(every / capacity, "share", f"{every:.1f} h of tickets / ({where})"),
        Figure(left / capacity, "share", f"{left:.1f} h of tickets no path replaces / ({where})"),
    )
