"""The insights charts, drawn on the server as SVG with matplotlib (Agg: no display, no CDN).

Text stays text (``svg.fonttype: none``) and no date is written, so the same data gives the
same SVG.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from goldenpath.insights.service import Report

matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "gp"})


def _svg(figure: Figure, title: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    start = text.index("<svg")
    # The RDF metadata block only names its vocabularies' URLs; a chart needs none of it.
    svg = re.sub(r"<metadata>.*?</metadata>", "", text[start:], flags=re.S)
    head = svg.index(">") + 1
    return f"{svg[:head]}<title>{title}</title>{svg[head:]}".replace(
        "<svg ", f'<svg role="img" aria-label="{title}" class="chart" ', 1
    )


def _week(moment: datetime) -> datetime:
    day = moment.date() - timedelta(days=moment.weekday())
    return datetime(day.year, day.month, day.day)


def lead_time_chart(report: Report) -> str:
    figure, axis = plt.subplots(figsize=(6.4, 3.2))
    baselines = {t.path: t.median_seconds for t in report.types if t.path and t.median_seconds}
    for run in report.runs:
        if not run.leads:
            continue
        weeks: dict[datetime, list[float]] = {}
        for moment, seconds in run.leads:
            weeks.setdefault(_week(moment), []).append(seconds / 3600)
        xs = sorted(weeks)
        ys = [sorted(weeks[x])[len(weeks[x]) // 2] for x in xs]
        label = f"{run.name} (platform)"
        (line,) = axis.plot(xs, ys, marker="o", label=label)  # type: ignore[arg-type]
        if run.name in baselines:
            axis.axhline(baselines[run.name] / 3600, linestyle="--", color=line.get_color(),
                         label=f"{run.name} ticket baseline")  # fmt: skip
    axis.set_yscale("symlog", linthresh=0.01)
    axis.set_ylabel("median lead time (hours)")
    axis.set_title("Lead time per path: platform vs ticket baseline")
    if axis.lines:
        axis.legend(fontsize=7)
    figure.autofmt_xdate()
    return _svg(figure, "Lead time per path over time, platform vs ticket baseline")


def requests_chart(report: Report) -> str:
    figure, axis = plt.subplots(figsize=(6.4, 3.0))
    counts = Counter(_week(m) for run in report.runs for m in run.submitted)
    xs = sorted(counts)
    axis.bar(xs, [counts[x] for x in xs], width=5)  # type: ignore[arg-type]
    axis.set_ylabel("requests")
    axis.set_title("Requests per week")
    figure.autofmt_xdate()
    return _svg(figure, "Requests per week")


def savings_chart(report: Report) -> str:
    figure, axis = plt.subplots(figsize=(6.4, 3.0))
    inputs = report.bill.inputs
    baseline = {s.path: s.baseline_seconds for s in report.bill.paths}
    events = sorted(
        (moment, max(0.0, baseline[run.name] - lead))
        for run in report.runs if run.name in baseline for moment, lead in run.leads
    )  # fmt: skip
    total = 0.0
    xs: list[datetime] = []
    ys: list[float] = []
    for moment, saved in events:
        total += saved / 86400 * inputs.hours_per_day * inputs.hourly_cost
        xs.append(moment)
        ys.append(total)
    axis.step(xs, ys, where="post")  # type: ignore[arg-type]
    axis.set_ylabel(f"idle salary saved ({inputs.currency})")
    axis.set_title("Money saved, cumulative")
    figure.autofmt_xdate()
    return _svg(figure, "Money saved, cumulative")


def candidates_chart(report: Report) -> str:
    figure, axis = plt.subplots(figsize=(6.4, 2.8))
    unmatched = [t for t in report.types if t.path is None][:8]
    axis.barh([t.name for t in reversed(unmatched)], [t.count for t in reversed(unmatched)])
    axis.set_xlabel("tickets")
    axis.set_title("Top ticket types without a golden path")
    return _svg(figure, "Top ticket types without a golden path")


def all_charts(report: Report) -> dict[str, str]:
    return {
        "lead_time": lead_time_chart(report),
        "requests": requests_chart(report),
        "savings": savings_chart(report),
        "candidates": candidates_chart(report),
    }
